"""libcst -> FlowModel, without importing the flow.

`parse_source(text, path, flow_name)` returns a ParseResult: the FlowModel (or None when the file
has no usable flow), the diagnostics found while reading (syntax, flow class, transitions that are
not static, arguments that need execution) and per-step facts that lint needs.
Positions are computed in one pass for the nodes that need them (see source.positions).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from compiler.diagnostics import ERROR, Diagnostic
from compiler.diagnostics import codes as _codes  # noqa: F401  (registry populated)
from compiler.frontend.imports import Names, inner_statements, local_modules
from compiler.frontend.model import Decorator, FlowModel, ParameterDecl, Span, StepDef, Transition
from compiler.frontend.source import SourceFile, positions
from compiler.frontend.static_eval import NotStatic, Scope, Symbol, dotted, evaluate

# Names the metaflow module exports that matter to the front end (anything else imported from
# metaflow is still treated as a metaflow name: an unknown decorator is a warning, not an error).
PARAMETER_KINDS = {"Parameter": "parameter", "IncludeFile": "include_file", "Config": "config"}
PARAM_POSITIONAL = {
    "Parameter": ["name", "default", "type", "help", "required", "show_default"],
    "IncludeFile": ["name", "required", "is_text", "encoding", "help"],
    "Config": ["name", "default", "default_value", "help", "required", "parser"],
}


@dataclass
class StepExtra:
    """Facts about a step that the model does not carry but lint needs."""

    func: Any = None
    def_span: Span | None = None
    has_step_decorator: bool = True
    tail_is_next: bool = False
    nested_next: list[Span] = field(default_factory=list)   # self.next calls not in tail position
    target_spans: dict[str, Span] = field(default_factory=dict)
    transition_error: bool = False          # a tail self.next that could not be read
    decorator_nodes: list[Any] = field(default_factory=list)
    args_spans: Span | None = None
    arg_names: list[str] = field(default_factory=list)


@dataclass
class ParseResult:
    source: SourceFile
    model: FlowModel | None
    diagnostics: list[Diagnostic]
    steps: dict[str, StepExtra] = field(default_factory=dict)
    non_step_methods: dict[str, Span] = field(default_factory=dict)   # methods ending in self.next
    duplicate_steps: list[tuple[str, Span, Span]] = field(default_factory=list)
    unimported: dict[str, bool] = field(default_factory=dict)          # decorator local name -> imported?
    decorator_origin: dict[int, str] = field(default_factory=dict)     # id(Decorator) -> "metaflow"|"other"|"missing"
    flow_decorator_spans: Span | None = None


class _Pending:
    """A diagnostic whose position is a libcst node, materialized after the positions pass."""

    __slots__ = ("code", "severity", "message", "node", "notes")

    def __init__(self, code, severity, message, node, notes=()):
        self.code, self.severity, self.message, self.node, self.notes = code, severity, message, node, notes


def _docstring(body) -> str | None:
    """The docstring opening a class or function body, when it is a plain string literal."""
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine) and first.body and isinstance(first.body[0], cst.Expr) \
            and isinstance(first.body[0].value, cst.SimpleString):
        try:
            return first.body[0].value.evaluated_value
        except Exception:  # an f-string-like or badly escaped literal: no docstring
            return None
    return None


def _decorator_expr_name(expr) -> str:
    inner = expr.func if isinstance(expr, cst.Call) else expr
    return dotted(inner) or "<expression>"


def _is_self_attr(node) -> str | None:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _is_self_next(call) -> bool:
    return isinstance(call, cst.Call) and _is_self_attr(call.func) == "next"


class _NextFinder(cst.CSTVisitor):
    def __init__(self):
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call):
        if _is_self_next(node):
            self.calls.append(node)

    def visit_FunctionDef(self, node):   # nested functions: still report (they cannot transition)
        return True


class Parser:
    def __init__(self, source: SourceFile, flow_name: str | None = None):
        self.source = source
        self.flow_name = flow_name
        self.pending: list[_Pending] = []
        self.wanted: list[Any] = []
        self.diags: list[Diagnostic] = []

    # -- helpers --------------------------------------------------------------------------
    def want(self, node):
        if node is not None:
            self.wanted.append(node)
        return node

    def report(self, code, message, node, severity=None, notes=()):
        from compiler.diagnostics.codes import get
        sev = severity or (get(code).severity if get(code) else ERROR)
        self.want(node)
        self.pending.append(_Pending(code, sev, message, node, tuple(notes)))

    def run(self) -> ParseResult:
        src = self.source
        try:
            module = cst.parse_module(src.text)
        except cst.ParserSyntaxError as exc:
            line = max(1, int(getattr(exc, "raw_line", 1) or 1))
            col = max(0, int(getattr(exc, "raw_column", 0) or 0)) + 1
            msg = str(getattr(exc, "message", "") or "invalid syntax").strip().splitlines()[0]
            try:   # Python's own parser usually names the exact place and the reason
                import ast
                ast.parse(src.text)
            except SyntaxError as se:
                if se.lineno:
                    line, col, msg = se.lineno, max(1, se.offset or 1), se.msg
            except Exception:
                pass
            d = Diagnostic("FC001", ERROR, f"syntax error: {msg}", src.clamp(Span.point(line, col)),
                           path=src.path)
            return ParseResult(src, None, [d])
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:
            d = Diagnostic("FC001", ERROR, f"syntax error: {type(exc).__name__}: {exc}"[:300],
                           Span.point(1, 1), path=src.path)
            return ParseResult(src, None, [d])
        self.module = module
        self.names = Names(module)
        directory = os.path.dirname(os.path.abspath(src.path)) if src.path and src.path != "<string>" else None
        self.scope = Scope.from_module(module, directory)
        self.directory = directory
        result = ParseResult(src, None, [])
        self.result = result
        cls = self._choose_class(module)
        model = None
        if cls is not None:
            model = self._read_flow(cls)
        spans = positions(module, self.wanted) if self.wanted else {}
        self.spans = spans
        if model is not None:
            self._materialize(model)
        for p in self.pending:
            self.diags.append(Diagnostic(p.code, p.severity, p.message, self._span(p.node),
                                         path=src.path, notes=p.notes))
        result.model = model
        result.diagnostics = self.diags
        return result

    def _span(self, node) -> Span:
        if node is None:
            return None
        s = self.spans.get(id(node))
        return self.source.clamp(s) if s is not None else Span.point(1, 1)

    # -- flow class -----------------------------------------------------------------------
    def _choose_class(self, module):
        classes = [s for s in module.body if isinstance(s, cst.ClassDef)]
        flows: dict[str, cst.ClassDef] = {}
        self.flow_bases: dict[str, list[str]] = {}
        changed = True
        while changed:
            changed = False
            for c in classes:
                name = c.name.value
                if name in flows:
                    continue
                local_bases = []
                is_flow = False
                for arg in c.bases:
                    canon, origin = self.names.resolve(arg.value)
                    if canon == "FlowSpec" and origin == "metaflow":
                        is_flow = True
                    elif isinstance(arg.value, cst.Name) and arg.value.value in flows:
                        is_flow = True
                        local_bases.append(arg.value.value)
                if is_flow:
                    flows[name] = c
                    self.flow_bases[name] = local_bases
                    changed = True
        self.flows = flows
        if not flows:
            self.diags.append(Diagnostic(
                "FC003", ERROR, "the file defines no FlowSpec subclass (class MyFlow(FlowSpec): ...)",
                Span.point(1, 1), path=self.source.path))
            return None
        if self.flow_name is not None:
            if self.flow_name in flows:
                return flows[self.flow_name]
            self.diags.append(Diagnostic(
                "FC005", ERROR, f"no flow named `{self.flow_name}` in this file; flows: "
                + ", ".join(flows), None, path=self.source.path))
            return None
        used_as_base = {b for bases in self.flow_bases.values() for b in bases}
        candidates = [n for n in flows if n not in used_as_base]
        if len(candidates) > 1:
            main_called = self._main_calls(module)
            chosen = [n for n in candidates if n in main_called]
            if len(chosen) == 1:
                return flows[chosen[0]]
            self.report("FC004", "the file defines several flows: " + ", ".join(candidates)
                        + "; choose one with --flow NAME", flows[candidates[-1]].name)
            return None
        return flows[candidates[0]]

    def _main_calls(self, module) -> set[str]:
        found: set[str] = set()
        for stmt in module.body:
            if isinstance(stmt, cst.If):
                for sub in inner_statements(stmt):
                    if isinstance(sub, cst.SimpleStatementLine):
                        for small in sub.body:
                            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) \
                                    and isinstance(small.value.func, cst.Name):
                                found.add(small.value.func.value)
        return found

    def _class_chain(self, cls) -> list[cst.ClassDef]:
        chain: list[cst.ClassDef] = []
        seen: set[str] = set()

        def visit(c):
            if c.name.value in seen:
                return
            seen.add(c.name.value)
            for b in self.flow_bases.get(c.name.value, []):
                visit(self.flows[b])
            chain.append(c)

        visit(cls)
        return chain

    # -- flow body ------------------------------------------------------------------------
    def _read_flow(self, cls):
        self.model_cls = cls
        self.want(cls.name)
        self.raw_steps: dict[str, dict] = {}
        self.raw_params: list[dict] = []
        self.flow_decos = [self._read_decorator(d, flow_level=True) for d in cls.decorators]
        for c in self._class_chain(cls):
            own = c is cls
            for stmt in c.body.body:
                if isinstance(stmt, cst.FunctionDef):
                    self._read_method(stmt, own)
                elif isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                            self._read_param(small)
        self.doc = _docstring(cls.body.body)
        self.local_modules = local_modules(self.module, self.source.path, self.directory)
        return FlowModel(path=self.source.path, class_name=cls.name.value, span=None, steps={},
                         parameters=[], decorators=[], local_modules=self.local_modules, docstring=self.doc)

    def _read_method(self, func: cst.FunctionDef, own: bool):
        name = func.name.value
        step_deco = None
        others = []
        for d in func.decorators:
            canon, origin = self.names.resolve(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            if canon == "step" and origin == "metaflow":
                step_deco = d
            else:
                others.append(d)
        tail, nested = self._find_next(func)
        if step_deco is None:
            if tail is not None or nested:
                self.want(func.name)
                self.result.non_step_methods[name] = func.name
            return
        self.want(func.name)
        is_start = is_end = False
        if isinstance(step_deco.decorator, cst.Call):
            for arg in step_deco.decorator.args:
                if arg.keyword is None:
                    self.report("FC203", "@step takes only the keyword arguments start= and end=", arg.value)
                    continue
                try:
                    v = evaluate(arg.value, self.scope)
                except NotStatic as exc:
                    self.report("FC201", f"@step({arg.keyword.value}=...) is not known before the run: "
                                f"{exc.reason}", exc.node)
                    continue
                if arg.keyword.value == "start":
                    is_start = bool(v)
                elif arg.keyword.value == "end":
                    is_end = bool(v)
                else:
                    self.report("FC203", f"@step has no argument `{arg.keyword.value}` "
                                "(known: start, end)", arg.keyword)
        if name in self.raw_steps:
            prev = self.raw_steps[name]
            if prev["own"] and own:
                self.result.duplicate_steps.append((name, prev["func"].name, func.name))
        decos = [self._read_decorator(d, flow_level=False) for d in others]
        params = func.params
        arg_names = [p.name.value for p in params.params]
        num_args = len(params.posonly_params) + len(params.params)
        raw = dict(func=func, own=own, decos=decos, is_start=is_start, is_end=is_end,
                   num_args=num_args, arg_names=arg_names, tail=tail, nested=nested,
                   transition=None)
        for n in nested:
            self.want(n)
        if tail is not None:
            self.want(tail)
            raw["transition"] = self._read_transition(tail, raw)
        raw["doc"] = _docstring(func.body.body if isinstance(func.body, cst.IndentedBlock) else [])
        if name in self.raw_steps:
            del self.raw_steps[name]
        self.raw_steps[name] = raw

    def _find_next(self, func):
        """(tail self.next call or None, self.next calls elsewhere in the body)."""
        tail = None
        body = func.body
        if isinstance(body, cst.IndentedBlock) and body.body:
            last = body.body[-1]
            if isinstance(last, cst.SimpleStatementLine) and last.body:
                small = last.body[-1]
                if isinstance(small, cst.Expr) and _is_self_next(small.value):
                    tail = small.value
        elif isinstance(body, cst.SimpleStatementSuite) and body.body:
            small = body.body[-1]
            if isinstance(small, cst.Expr) and _is_self_next(small.value):
                tail = small.value
        # Fast path: other self.next calls can only exist if the text says so more than once.
        finder = _NextFinder()
        stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
        for stmt in stmts:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    if isinstance(small, cst.Expr) and small.value is tail:
                        continue
                    small.visit(finder)
            else:
                stmt.visit(finder)
        nested = [c for c in finder.calls if c is not tail]
        return tail, nested

    def _read_transition(self, call: cst.Call, raw) -> Transition | None:
        targets: list[str] = []
        target_nodes: dict[str, Any] = {}
        kwargs = {a.keyword.value: a for a in call.args if a.keyword is not None}
        positional = [a for a in call.args if a.keyword is None]
        for a in call.args:
            if a.star:
                self.report("FC108", "self.next() with * or ** arguments is not static", a.value)
                return None
        if len(positional) == 1 and isinstance(positional[0].value, cst.Dict):
            return self._read_switch(call, positional[0].value, kwargs, raw)
        if "condition" in kwargs:
            self.report("FC118", "condition= is only valid with a dict of cases: "
                        "self.next({\"a\": self.a, \"b\": self.b}, condition=\"var\")",
                        kwargs["condition"].value)
            return None
        ok = True
        for a in positional:
            t = _is_self_attr(a.value)
            if t is None:
                self.report("FC108", "self.next() arguments must be steps written as self.<step>; "
                            "this one is only known when the flow runs", a.value)
                ok = False
            else:
                targets.append(t)
                target_nodes[t] = self.want(a.value)
        if not positional:
            self.report("FC108", "self.next() needs at least one target step", call)
            return None
        if not ok:
            return None
        raw["target_nodes"] = target_nodes
        kind = "split" if len(targets) > 1 else "linear"
        foreach = None
        num_parallel = None
        for key, a in kwargs.items():
            if key == "foreach":
                v = a.value
                if isinstance(v, (cst.SimpleString, cst.ConcatenatedString)):
                    try:
                        foreach = evaluate(v, self.scope)
                    except NotStatic:
                        foreach = None
                if not isinstance(foreach, str) or not foreach.isidentifier():
                    self.report("FC117", "foreach= must name an artifact as a string literal, "
                                "e.g. foreach=\"items\"", v)
                    return None
                kind = "foreach"
            elif key == "num_parallel":
                kind = "parallel"
                try:
                    num_parallel = evaluate(a.value, self.scope)
                except NotStatic:
                    num_parallel = None     # known only at run time: allowed by Metaflow
                    continue
                if not isinstance(num_parallel, int) or isinstance(num_parallel, bool) or num_parallel < 1:
                    self.report("FC117", f"num_parallel= must be a positive integer, got {num_parallel!r}",
                                a.value)
                    return None
            else:
                self.report("FC117", f"self.next() has no keyword argument `{key}` "
                            "(known: foreach, num_parallel, condition)", a.keyword)
                return None
        if "foreach" in kwargs and "num_parallel" in kwargs:
            self.report("FC117", "self.next() cannot take both foreach= and num_parallel=", call)
            return None
        if kind in ("foreach", "parallel") and len(targets) != 1:
            self.report("FC117", f"a {'foreach' if kind == 'foreach' else 'num_parallel'} transition "
                        "must have exactly one target step", call)
            return None
        return Transition(kind=kind, targets=targets, span=None, foreach=foreach,
                          num_parallel=num_parallel)

    def _read_switch(self, call, dict_node: cst.Dict, kwargs, raw):
        cond = kwargs.get("condition")
        if cond is None:
            self.report("FC118", "a dict of cases needs condition=\"<artifact name>\"", call)
            return None
        cond_value = None
        if isinstance(cond.value, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                cond_value = evaluate(cond.value, self.scope)
            except NotStatic:
                cond_value = None
        if not isinstance(cond_value, str) or not cond_value:
            self.report("FC118", "condition= must name an artifact as a string literal, "
                        "e.g. condition=\"route\"", cond.value)
            return None
        extra = [k for k in kwargs if k != "condition"]
        if extra:
            self.report("FC118", f"a switch takes only condition=, not `{extra[0]}`", kwargs[extra[0]].keyword)
            return None
        cases: dict[str, str] = {}
        target_nodes = {}
        for el in dict_node.elements:
            if isinstance(el, cst.StarredDictElement):
                self.report("FC118", "switch cases must be written out, not ** expanded", el.value)
                return None
            key_node = el.key
            key = None
            self_cfg = _is_self_attr(key_node.value) if isinstance(key_node, cst.Attribute) else None
            if self_cfg is not None and isinstance(key_node, cst.Attribute):
                key = f"config:{self_cfg}.{key_node.attr.value}"
            else:
                try:
                    key = evaluate(key_node, self.scope)
                except NotStatic:
                    key = None
            if key is None or isinstance(key, Symbol) or isinstance(key, (list, dict, set)):
                self.report("FC118", "switch case keys must be literals (or self.<config>.<key>)", key_node)
                return None
            target = _is_self_attr(el.value)
            if target is None:
                self.report("FC118", "switch case values must be steps written as self.<step>", el.value)
                return None
            cases[str(key)] = target
            target_nodes.setdefault(target, self.want(el.value))
        if len(cases) < 2:
            self.report("FC118", f"a switch needs at least two cases, this one has {len(cases)}", dict_node)
            return None
        raw["target_nodes"] = target_nodes
        targets = list(dict.fromkeys(cases.values()))
        return Transition(kind="switch", targets=targets, span=None, condition=cond_value, cases=cases)

    def _read_decorator(self, d: cst.Decorator, flow_level: bool):
        expr = d.decorator
        self.want(expr)
        func = expr.func if isinstance(expr, cst.Call) else expr
        canon, origin = self.names.resolve(func)
        local = _decorator_expr_name(expr)
        name = canon if canon is not None else local.split(".")[-1]
        args: dict[str, Any] = {}
        arg_nodes: dict[str, Any] = {}
        positional = []
        if isinstance(expr, cst.Call):
            for a in expr.args:
                if a.star == "**":
                    try:
                        value = evaluate(a.value, self.scope)
                    except NotStatic as exc:
                        self.report("FC201", f"@{name}(**...) is not known before the run: {exc.reason}",
                                    exc.node)
                        continue
                    if not isinstance(value, dict):
                        self.report("FC201", f"@{name}(**...) must expand a dict", a.value)
                        continue
                    for k, v in value.items():
                        args[str(k)] = v
                        arg_nodes[str(k)] = self.want(a.value)
                elif a.star == "*" or a.keyword is None:
                    positional.append(self.want(a.value))
                else:
                    key = a.keyword.value
                    arg_nodes[key] = self.want(a.value)
                    try:
                        args[key] = evaluate(a.value, self.scope)
                    except NotStatic as exc:
                        self.report("FC201", f"@{name}({key}=...) is not known before the flow runs: "
                                    f"{exc.reason}", exc.node)
        return dict(name=name, origin=origin, local=local, args=args, arg_nodes=arg_nodes,
                    positional=positional, node=expr, flow_level=flow_level,
                    is_call=isinstance(expr, cst.Call))

    def _read_param(self, assign):
        value = assign.value
        if not isinstance(value, cst.Call):
            return
        canon, origin = self.names.resolve(value.func)
        if origin != "metaflow" or canon not in PARAMETER_KINDS:
            return
        targets = assign.targets if isinstance(assign, cst.Assign) else [assign]
        if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
            return
        attr = targets[0].target.value
        self.want(targets[0].target)
        kw: dict[str, Any] = {}
        nodes: dict[str, Any] = {}
        names = PARAM_POSITIONAL[canon]
        i = 0
        bad = False
        for a in value.args:
            if a.star:
                if a.star == "**":
                    try:
                        extra = evaluate(a.value, self.scope)
                        if isinstance(extra, dict):
                            kw.update(extra)
                            continue
                    except NotStatic as exc:
                        self.report("FC201", f"{canon}(**...) is not known before the run: {exc.reason}",
                                    exc.node)
                        bad = True
                        continue
                self.report("FC208", f"{canon}(*...) arguments cannot be read statically", a.value)
                bad = True
                continue
            key = a.keyword.value if a.keyword is not None else (names[i] if i < len(names) else None)
            if a.keyword is None:
                i += 1
            if key is None:
                self.report("FC208", f"{canon}() takes at most {len(names)} positional arguments", a.value)
                bad = True
                continue
            nodes[key] = self.want(a.value)
            if key == "type":
                v = a.value
                canon_t, orig_t = self.names.resolve(v) if isinstance(v, (cst.Name, cst.Attribute)) else (None, "")
                if orig_t == "metaflow" and canon_t == "JSONType":
                    kw[key] = "json"
                elif isinstance(v, cst.Name) and v.value in ("int", "float", "str", "bool") \
                        and v.value not in self.names.defined:
                    kw[key] = v.value
                else:
                    kw[key] = ("?", dotted(v) or "expression")
                continue
            try:
                kw[key] = evaluate(a.value, self.scope)
            except NotStatic as exc:
                if key in ("default", "default_value") and isinstance(a.value, cst.Lambda):
                    kw[key] = ("deploy_time",)
                    self.report("FC201", f"{canon} `{key}` is a function evaluated at deploy time; "
                                "flowc needs a value known before the run", exc.node)
                else:
                    self.report("FC201", f"{canon} argument `{key}` is not known before the flow runs: "
                                f"{exc.reason}", exc.node)
                bad = True
        self.raw_params.append(dict(attr=attr, kind=PARAMETER_KINDS[canon], canon=canon, kw=kw,
                                    nodes=nodes, call=value, target=targets[0].target, bad=bad))
        self.want(value)

    # -- spans and model ------------------------------------------------------------------
    def _materialize(self, model: FlowModel):
        sp = self._span
        model.span = sp(self.model_cls.name)
        model.decorators = [self._deco(d) for d in self.flow_decos]
        self.flow_deco_raw = self.flow_decos
        for name, raw in self.raw_steps.items():
            t = raw["transition"]
            if t is not None:
                t.span = sp(raw["tail"])
            decos = [self._deco(d) for d in raw["decos"]]
            func = raw["func"]
            step = StepDef(name=name, span=sp(func.name), decorators=decos, num_args=raw["num_args"],
                           transition=t, is_start=raw["is_start"], is_end=raw["is_end"],
                           docstring=raw["doc"])
            model.steps[name] = step
            extra = StepExtra(func=func, def_span=step.span, tail_is_next=raw["tail"] is not None,
                              nested_next=[sp(n) for n in raw["nested"]],
                              target_spans={k: sp(v) for k, v in raw.get("target_nodes", {}).items()},
                              transition_error=raw["tail"] is not None and t is None,
                              decorator_nodes=raw["decos"], arg_names=raw["arg_names"])
            self.result.steps[name] = extra
        self.result.non_step_methods = {k: sp(v) for k, v in self.result.non_step_methods.items()}
        self.result.duplicate_steps = [(n, sp(a), sp(b)) for n, a, b in self.result.duplicate_steps]
        for p in self.raw_params:
            model.parameters.append(self._param(p))

    def _deco(self, d) -> Decorator:
        dec = Decorator(name=d["name"], args=d["args"], span=self._span(d["node"]),
                        arg_spans={k: self._span(v) for k, v in d["arg_nodes"].items()})
        self.result.decorator_origin[id(dec)] = d["origin"]
        d["model"] = dec
        d["positional_spans"] = [self._span(n) for n in d["positional"]]
        return dec

    def _param(self, p) -> ParameterDecl:
        kw = p["kw"]
        kind = p["kind"]
        name = kw.get("name")
        span = self._span(p["target"])
        if not isinstance(name, str) or not name:
            if "name" not in kw and not p["bad"]:
                self.diags.append(Diagnostic("FC208", ERROR, f"{p['canon']}() needs a name as its first "
                                             "argument", span, path=self.source.path))
            elif "name" in kw:
                self.diags.append(Diagnostic("FC208", ERROR, f"{p['canon']} name must be a string",
                                             self._span(p["nodes"].get("name")) or span,
                                             path=self.source.path))
            name = p["attr"]
        default_key = "default_value" if kind == "config" and "default_value" in kw else "default"
        has_default = default_key in kw and kw[default_key] is not None
        default = kw.get(default_key)
        if isinstance(default, tuple) and default[:1] == ("deploy_time",):
            default, has_default = None, False
        t = kw.get("type")
        type_name = None
        if isinstance(t, tuple):
            self.diags.append(Diagnostic("FC208", ERROR, f"parameter `{name}`: type={t[1]} is not one of "
                                         "int, float, str, bool, JSONType", self._span(p["nodes"]["type"]),
                                         path=self.source.path))
            type_name = "str"
        elif t is not None:
            type_name = t
        if kind == "config":
            type_name = "json"
        elif kind == "include_file":
            type_name = "str"
        elif type_name is None:
            if isinstance(default, bool):
                type_name = "bool"
            elif isinstance(default, int):
                type_name = "int"
            elif isinstance(default, float):
                type_name = "float"
            elif isinstance(default, (dict, list)):
                type_name = "json"
            else:
                type_name = "str"
        elif has_default and kind == "parameter" and not isinstance(default, str):
            ok = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  "bool": lambda v: isinstance(v, bool),
                  "str": lambda v: True, "json": lambda v: isinstance(v, (dict, list))}[type_name](default)
            if not ok:
                self.diags.append(Diagnostic("FC208", ERROR, f"parameter `{name}`: default {default!r} is "
                                             f"not of type {type_name}", self._span(p["nodes"].get("default")),
                                             path=self.source.path))
        help_ = kw.get("help")
        sep = kw.get("separator")
        decl = ParameterDecl(
            attr=p["attr"], name=name, kind=kind, type=type_name, span=span, default=default,
            has_default=has_default, required=bool(kw.get("required") or False),
            help=help_ if isinstance(help_, str) else None, multiple=bool(kw.get("multiple") or False),
            separator=sep if isinstance(sep, str) else None,
            is_text=bool(kw.get("is_text", True)) if kw.get("is_text") is not None else True,
            encoding=kw.get("encoding") if isinstance(kw.get("encoding"), str) else "utf-8")
        return decl


def parse_source(text: str, path: str = "<string>", flow_name: str | None = None) -> ParseResult:
    parser = Parser(SourceFile(path=path, text=text), flow_name)
    result = parser.run()
    result.flow_decorators_raw = getattr(parser, "flow_deco_raw", [])
    return result
