"""The code package: one deterministic zip with the runtime, the flow and its local files.

Layout (docs/runtime-contract.md):

    runtime_shim/...        from the installed runtime_shim package (.py files only)
    flow/<flow file>        the user's flow
    flow/<local modules>    sibling modules / packages the flow imports (discovered with `ast`,
                            plus any relative paths the caller lists)
    flow/<included files>   files matching the caller's include globs (relative to the flow dir)
    flowc.json              the runtime spec bytes given by the caller

Deterministic: entries sorted, date_time 1980-01-01 00:00:00, permissions 0o644, no extra
attributes, DEFLATE level 6. Same inputs -> same bytes -> same sha256.
"""
from __future__ import annotations

import ast
import functools
import glob
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", ".flowc", ".metaflow", "node_modules",
              ".mypy_cache", ".pytest_cache"}


def runtime_files() -> dict[str, str]:
    """archive name -> absolute path, for the runtime_shim package's .py files."""
    import runtime_shim.datastore

    root = os.path.dirname(os.path.abspath(runtime_shim.datastore.__file__))
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for f in files:
            if f.endswith(".py"):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, os.path.dirname(root)).replace(os.sep, "/")
                out[rel] = full
    return out


@functools.lru_cache(maxsize=256)
def _pyc(name: str, source: bytes) -> bytes:
    """Unchecked-hash pyc (PEP 552) of a runtime module, next to its source in the zip.

    zipimport cannot cache bytecode, so without this every task would compile the runtime anew.
    Deterministic (no timestamp); a Python with another magic number ignores it and compiles
    the .py instead. Cached by (name, source): compiling the runtime is most of the cost of a
    package, and a process that builds several (tests, `flowc run` after a compile) pays it once.
    """
    import importlib.util
    from importlib import _bootstrap_external

    code = compile(source, name, "exec", dont_inherit=True)
    return bytes(_bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(source),
                                                       False))


def _module_paths(flow_dir: str, dotted: str) -> list[str]:
    """Relative paths (to flow_dir) for a top-level module or package name that lives there."""
    top = dotted.split(".")[0]
    out = []
    if os.path.isfile(os.path.join(flow_dir, top + ".py")):
        out.append(top + ".py")
    pkg = os.path.join(flow_dir, top)
    if os.path.isdir(pkg) and (os.path.isfile(os.path.join(pkg, "__init__.py"))
                               or any(f.endswith(".py") for f in os.listdir(pkg))):
        for dirpath, dirs, files in os.walk(pkg):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for f in files:
                if f.endswith(".py"):
                    out.append(os.path.relpath(os.path.join(dirpath, f), flow_dir))
    return out


def discover_local_modules(flow_path: str) -> list[str]:
    """Sibling .py modules and packages that the flow (transitively) imports, relative paths."""
    flow_dir = os.path.dirname(os.path.abspath(flow_path))
    found: set[str] = set()
    todo = [os.path.abspath(flow_path)]
    seen_files = set()
    while todo:
        path = todo.pop()
        if path in seen_files:
            continue
        seen_files.add(path)
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        names = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level and node.level > 0:
                    continue  # relative imports live inside a package we already include
                if node.module:
                    names.append(node.module)
        for name in names:
            for rel in _module_paths(flow_dir, name):
                rel = rel.replace(os.sep, "/")
                if rel not in found and os.path.abspath(os.path.join(flow_dir, rel)) != \
                        os.path.abspath(flow_path):
                    found.add(rel)
                    todo.append(os.path.join(flow_dir, rel))
    return sorted(found)


def _glob_files(flow_dir: str, patterns) -> list[str]:
    out = set()
    for pat in patterns or ():
        for p in glob.glob(os.path.join(flow_dir, pat), recursive=True):
            if os.path.isfile(p):
                rel = os.path.relpath(p, flow_dir)
                if rel.startswith(".."):
                    continue
                if any(part in _SKIP_DIRS for part in rel.split(os.sep)):
                    continue
                out.add(rel.replace(os.sep, "/"))
    return sorted(out)


def build(flow_path: str, spec_bytes: bytes, local_modules=(), include_globs=(),
          discover: bool = True) -> tuple[bytes, str]:
    """Build the code package. Returns (zip bytes, sha256 hex)."""
    flow_path = os.path.abspath(flow_path)
    flow_dir = os.path.dirname(flow_path)
    entries: dict[str, bytes] = {}
    for name, full in runtime_files().items():
        with open(full, "rb") as f:
            entries[name] = f.read()
        entries[name + "c"] = _pyc(name, entries[name])
    rels = set(local_modules or ())
    if discover:
        rels.update(discover_local_modules(flow_path))
    rels.update(_glob_files(flow_dir, include_globs))
    rels.add(os.path.basename(flow_path))
    for rel in sorted(rels):
        full = os.path.join(flow_dir, rel)
        with open(full, "rb") as f:
            entries["flow/" + rel.replace(os.sep, "/")] = f.read()
    entries["flowc.json"] = spec_bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.create_system = 3
            z.writestr(info, entries[name], compresslevel=6)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CodePackage:
    data: bytes
    sha256: str

    @property
    def name(self) -> str:
        return "%s.zip" % self.sha256


def build_package(flow_path: str, spec_bytes: bytes, local_modules=(), include_globs=(),
                  discover: bool = True) -> CodePackage:
    """Like build(), as a CodePackage (data, sha256)."""
    data, sha = build(flow_path, spec_bytes, local_modules, include_globs, discover)
    return CodePackage(data, sha)
