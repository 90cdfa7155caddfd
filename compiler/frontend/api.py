"""The front end's entry points: analyze_file / analyze_source -> Analysis.

No exception escapes for any input: an unexpected failure becomes an FC000 internal-error
diagnostic carrying the traceback (the CLI turns it into exit code 70).
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compiler.diagnostics import ERROR, Diagnostic, Span, has_errors
from compiler.frontend.configs import FrontendOptions
from compiler.frontend.model import FlowGraph, FlowModel

if TYPE_CHECKING:
    from compiler.frontend.cache import AnalysisCache


@dataclass
class Analysis:
    path: str
    source: str
    model: FlowModel | None
    graph: FlowGraph | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    internal_error: str | None = None       # traceback text when flowc itself failed

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _key(d: Diagnostic):
    s = d.span
    return (s.line if s else 0, s.col if s else 0, d.code, d.message)


def analyze_source(text: str, path: str = "<string>", flow_name: str | None = None,
                   options: FrontendOptions | None = None) -> Analysis:
    # The cyclic GC is paused while analyzing: libcst allocates ~60 nodes per source line and
    # none of them form cycles, but every full collection rescans the whole growing tree, which
    # made the front end superlinear (10,000 steps: 11.6 s with the GC, 5.7 s without).
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyze_source(text, path, flow_name, options)
    finally:
        if gc_enabled:
            gc.enable()


def _analyze_source(text: str, path: str, flow_name: str | None, options: FrontendOptions | None) -> Analysis:
    try:
        from compiler.frontend.graph import build
        from compiler.frontend.lint import run_all
        from compiler.frontend.parse import parse_source
        from compiler.frontend.source import python_refusal

        refused = python_refusal(text, path)   # what Python's compile() refuses, flowc refuses
        if refused is not None:
            msg, line, col = refused
            return Analysis(path, text, None, None, [Diagnostic("FC001", ERROR, f"syntax error: {msg}",
                                                                Span.point(line, col), path=path)])
        parsed = parse_source(text, path, flow_name, options)
        diags = list(parsed.diagnostics)
        graph = None
        if parsed.model is not None:
            graph, facts = build(parsed.model)
            diags.extend(run_all(parsed, graph, facts))
        seen = set()
        unique = []
        for d in sorted(diags, key=_key):
            k = (d.code, d.span, d.message)
            if k not in seen:
                seen.add(k)
                unique.append(d)
        return Analysis(path, text, parsed.model, graph, unique)
    except BaseException as exc:  # noqa: BLE001 - the contract is: never raise
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        import traceback  # only here: its import (textwrap, linecache) is ~5 ms of every compile

        tb = traceback.format_exc()
        d = Diagnostic("FC000", ERROR, f"internal error: {type(exc).__name__}: {exc}"[:500], None, path=path)
        return Analysis(path, text, None, None, [d], internal_error=tb)


def analyze_file(path, flow_name: str | None = None, options: FrontendOptions | None = None,
                 cache: "AnalysisCache | None" = None) -> Analysis:
    """Analyze the flow file at path. `options`: config overrides and the resolve_env opt-in
    (frontend/configs.py). With a cache (compiler/frontend/cache.py), an unchanged flow whose local
    modules and config files are unchanged is answered from it without importing libcst."""
    from compiler.frontend.source import SourceDecodeError, decode

    path = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        text = decode(data)
    except SourceDecodeError as exc:     # PEP 263: the encoding Python would read it with
        d = Diagnostic("FC002", ERROR, f"cannot decode {path}: {exc}", None, path=path)
        return Analysis(path, "", None, None, [d])
    except OSError as exc:
        d = Diagnostic("FC002", ERROR, f"cannot read {path}: {exc.strerror or exc}", None, path=path)
        return Analysis(path, "", None, None, [d])
    # --resolve-env reads the environment: its values are not part of any key, so no cache
    if cache is None or (options is not None and options.resolve_env):
        return analyze_source(text, path, flow_name, options)
    extra = options.cache_key() if options is not None else ""
    hit = cache.load(path, flow_name, data, extra)
    if hit is not None:
        return Analysis(path, text, *hit)
    from compiler.frontend import deps

    with deps.recording() as recorded:
        analysis = analyze_source(text, path, flow_name, options)
    if analysis.internal_error is None:
        cache.store(path, flow_name, data, analysis.model, analysis.graph, analysis.diagnostics, recorded, extra)
    return analysis


def check_file(path, flow_name: str | None = None, cache: "AnalysisCache | None" = None) -> Analysis:
    return analyze_file(path, flow_name, cache=cache)
