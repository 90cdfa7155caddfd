"""The analysis cache: a front-end result (model, graph, diagnostics) kept on disk so an unchanged
flow is not parsed again (libcst's import alone is about a quarter of a cold compile).

An entry is found by a key over everything the analysis is a function of that can be known
before analyzing: the flow's bytes, its path (as given and absolute: diagnostics carry the one,
sibling modules resolve against the other), the flow class asked for, and the analyzer itself
(flowc's version and the size and mtime of every source file of the analyzer, the Python
version, libcst's files). The entry then lists the other files the analysis probed or read
(compiler/frontend/deps.py) with their state; every hit re-checks each one, so an edited, created
or deleted local module is a miss. A wrong hit is a wrong compile: anything unexpected in an
entry (bad JSON, a checksum or key mismatch, an unknown class) is a miss, never an error.

The format is JSON of the typed model, decoded only into the classes listed in _CLASSES (no
pickle: a cache directory may be shared by CI jobs). Entries are written to a temporary file and
renamed over the old one, so concurrent writers and readers see whole entries or none.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import fields, is_dataclass
from typing import Any

from compiler.diagnostics import Diagnostic, Span
from compiler.frontend import deps
from compiler.frontend.model import (
    Decorator,
    FlowGraph,
    FlowModel,
    FunctionRef,
    GraphNode,
    ParameterDecl,
    StepDef,
    Transition,
)

FORMAT = 1
MAX_ENTRIES = 2000          # past this many entries a write drops the oldest half
ENV_DIR = "FLOWC_CACHE_DIR"
ENV_OFF = "FLOWC_NO_CACHE"

_CLASSES: dict[str, type] = {c.__name__: c for c in (
    Span, Diagnostic, Decorator, ParameterDecl, Transition, StepDef, FlowModel, GraphNode, FlowGraph,
    FunctionRef)}


def default_dir(explicit: str | None = None) -> str | None:
    """--cache-dir, else FLOWC_CACHE_DIR, else $XDG_CACHE_HOME/flowc (~/.cache/flowc);
    None when FLOWC_NO_CACHE=1."""
    if explicit:
        return explicit
    if os.environ.get(ENV_OFF, "") not in ("", "0"):
        return None
    if os.environ.get(ENV_DIR):
        return os.environ[ENV_DIR]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "flowc")


def default_cache() -> "AnalysisCache | None":
    """The cache a command uses without --cache-dir (default_dir's rules), or None when off:
    `flowc run` reads the flow three times (its --NAME options, the plan, the spec), each a hit."""
    directory = default_dir()
    return AnalysisCache(directory) if directory else None


# ------------------------------------------------------------------------------ the analyzer's identity
_FINGERPRINT: str | None = None


def _tree_stats(root: str, out: list) -> None:
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                _tree_stats(entry.path, out)
        elif entry.name.endswith(".py"):
            st = entry.stat()
            out.append((entry.path, st.st_size, st.st_mtime_ns))


# What the analysis is computed by: the front end, the diagnostics it builds, the decorator table
# lint reads, flowc's version (compiler/__init__.py). The layering rules (DESIGN.md) keep the front
# end from importing anything else of flowc; test_analysis_cache checks the list against what an
# analysis imports.
ANALYZER_PARTS = ("__init__.py", "frontend", "diagnostics", "decorators.py")


def fingerprint() -> str:
    """flowc's version and the stat of each source file of the analyzer, Python's version,
    libcst's files: a new flowc (installed or edited in a checkout) never reads an older flowc's
    entries."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import compiler

        parts: list[Any] = [compiler.__version__, sys.version, sys.implementation.cache_tag]
        root = os.path.dirname(os.path.abspath(compiler.__file__))
        for part in ANALYZER_PARTS:
            path = os.path.join(root, part)
            if os.path.isdir(path):
                _tree_stats(path, parts)
            else:
                try:
                    st = os.stat(path)
                    parts.append((path, st.st_size, st.st_mtime_ns))
                except OSError:
                    parts.append((path, None))
        from importlib.util import find_spec

        spec = find_spec("libcst")          # finds, does not import
        if spec is not None and spec.origin:
            libdir = os.path.dirname(spec.origin)
            for name in ("__init__.py", "_version.py"):
                try:
                    st = os.stat(os.path.join(libdir, name))
                    parts.append((libdir, name, st.st_size, st.st_mtime_ns))
                except OSError:
                    parts.append((libdir, name, None))
        _FINGERPRINT = hashlib.sha256(repr(parts).encode()).hexdigest()
    return _FINGERPRINT


def entry_key(path: str, flow_name: str | None, data: bytes, extra: str = "") -> str:
    """`extra`: what else the analysis was asked (frontend options: --config, --config-value)."""
    ident = json.dumps([FORMAT, fingerprint(), path, os.path.abspath(path), flow_name,
                        hashlib.sha256(data).hexdigest(), extra])
    return hashlib.sha256(ident.encode()).hexdigest()


# ------------------------------------------------------------------------------ codec
class Unencodable(Exception):
    """A value the format has no spelling for: the analysis is simply not cached."""


def _enc(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)) and type(v) in (int, float):
        return v
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in v):
            return {k: _enc(x) for k, x in v.items()}
        return {"$dict": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, tuple) and type(v) is tuple:
        return {"$tuple": [_enc(x) for x in v]}
    if type(v) in (set, frozenset):
        return {"$" + type(v).__name__: [_enc(x) for x in sorted(v, key=repr)]}
    if type(v) is bytes:
        import base64

        return {"$bytes": base64.b64encode(v).decode("ascii")}
    if type(v) is complex:
        return {"$complex": [v.real, v.imag]}
    if is_dataclass(v) and type(v).__name__ in _CLASSES and _CLASSES[type(v).__name__] is type(v):
        out = {}
        for f in fields(v):
            x = getattr(v, f.name)
            if isinstance(v, GraphNode) and f.name == "step":
                out[f.name] = None if x is None else {"$step": x.name}   # the FlowModel's own StepDef
            else:
                out[f.name] = _enc(x)
        return {"$obj": type(v).__name__, "fields": out}
    raise Unencodable(type(v).__name__)


def _dec(v: Any, steps: dict[str, StepDef] | None = None) -> Any:
    if isinstance(v, list):
        return [_dec(x, steps) for x in v]
    if not isinstance(v, dict):
        return v
    if len(v) == 1:
        (tag, x), = v.items()
        if tag == "$tuple":
            return tuple(_dec(y, steps) for y in x)
        if tag == "$set":
            return {_dec(y, steps) for y in x}
        if tag == "$frozenset":
            return frozenset(_dec(y, steps) for y in x)
        if tag == "$dict":
            return {_dec(k, steps): _dec(y, steps) for k, y in x}
        if tag == "$bytes":
            import base64

            return base64.b64decode(x.encode("ascii"), validate=True)
        if tag == "$complex":
            return complex(x[0], x[1])
        if tag == "$step":
            if steps is None or x not in steps:
                raise ValueError("dangling step reference %r" % (x,))
            return steps[x]
    if "$obj" in v:
        cls = _CLASSES[v["$obj"]]          # KeyError: not a class of ours -> a miss
        raw = v["fields"]
        if cls is FlowGraph:
            flow = _dec(raw["flow"])
            kwargs = {k: (flow if k == "flow" else _dec(x, flow.steps)) for k, x in raw.items()}
        else:
            kwargs = {k: _dec(x, steps) for k, x in raw.items()}
        if set(kwargs) != {f.name for f in fields(cls)}:
            raise ValueError("fields of %s changed" % cls.__name__)
        return cls(**kwargs)
    if any(k.startswith("$") for k in v):
        raise ValueError("unknown tag in %r" % sorted(v)[:3])
    return {k: _dec(x, steps) for k, x in v.items()}


# ------------------------------------------------------------------------------ store
_GRAPH_FLOW = "$graph.flow"     # the model is the graph's own FlowModel (stored once)


class AnalysisCache:
    """Entries under DIR/analysis/<key>.json."""

    def __init__(self, directory: str):
        self.directory = os.path.join(directory, "analysis")

    def _file(self, key: str) -> str:
        return os.path.join(self.directory, key + ".json")

    def load(self, path: str, flow_name: str | None, data: bytes, extra: str = ""):
        """(model, graph, diagnostics) of a fresh entry, else None."""
        key = entry_key(path, flow_name, data, extra)
        try:
            with open(self._file(key), "rb") as fh:
                raw = fh.read()
            entry = json.loads(raw)
            body = entry["body"]
            if entry.get("format") != FORMAT or entry.get("key") != key or \
                    entry.get("sha256") != hashlib.sha256(body.encode("utf-8")).hexdigest():
                return None
            content = json.loads(body)
            for dep, state in content["deps"]:
                if deps.state_of(dep, state) != state:
                    return None
            graph = _dec(content["graph"])
            model = graph.flow if content["model"] == _GRAPH_FLOW else _dec(content["model"])
            diagnostics = _dec(content["diagnostics"])
        except Exception:  # noqa: BLE001 - absent, truncated, corrupt or foreign: a miss
            return None
        if model is not None and not isinstance(model, FlowModel) or \
                graph is not None and not isinstance(graph, FlowGraph) or \
                not all(isinstance(d, Diagnostic) for d in diagnostics):
            return None
        return model, graph, diagnostics

    def store(self, path: str, flow_name: str | None, data: bytes, model, graph, diagnostics,
              recorded: dict[str, str | None], extra: str = "") -> bool:
        """Write the entry; False (and nothing written) when it cannot be (unencodable value,
        unwritable directory): the cache is an optimisation, never a reason to fail."""
        key = entry_key(path, flow_name, data, extra)
        try:
            body = json.dumps({"deps": sorted(recorded.items(), key=lambda kv: kv[0]),
                               "model": _GRAPH_FLOW if graph is not None and graph.flow is model else _enc(model),
                               "graph": _enc(graph),
                               "diagnostics": _enc(list(diagnostics))}, separators=(",", ":"))
        except (Unencodable, ValueError, TypeError, RecursionError):
            return False
        entry = json.dumps({"format": FORMAT, "key": key,
                            "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(), "body": body})
        try:
            os.makedirs(self.directory, exist_ok=True)
            from compiler.atomic import write_text

            write_text(self._file(key), entry, suffix=".json")
            self._prune()
        except OSError:
            return False
        return True

    def _prune(self) -> None:
        names = [n for n in os.listdir(self.directory) if n.endswith(".json") and not n.startswith(".")]
        if len(names) <= MAX_ENTRIES:
            return
        def age(n):
            try:
                return os.stat(os.path.join(self.directory, n)).st_mtime
            except OSError:
                return 0.0
        for n in sorted(names, key=age)[:len(names) // 2]:
            try:
                os.unlink(os.path.join(self.directory, n))
            except OSError:
                pass
