"""libcst -> FlowModel, without importing the flow.

`parse_source(text, path, flow_name)` returns a ParseResult: the FlowModel (or None when the file
has no usable flow), the diagnostics found while reading (syntax, flow class, transitions that are
not static, arguments that need execution) and per-step facts that lint needs.

Phases: parse the module; choose the flow class; read its body (steps with their decorators and
transitions: parse_transitions.py; parameters: parse_parameters.py) into Raw* records (parsed.py);
compute the positions of the nodes that need one, in one pass (source.positions); build the model.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import libcst as cst

from compiler.decorators import UNREAD_ARGUMENTS
from compiler.diagnostics import ERROR, Diagnostic, Span
from compiler.frontend.configs import FrontendOptions
from compiler.frontend.imports import Names, inner_statements, local_modules
from compiler.frontend.inherit import ForeignClass, ForeignFlows
from compiler.frontend.model import Decorator, FlowModel, StepDef
from compiler.frontend.parse_parameters import PARAMETER_KINDS, ParameterReader
from compiler.frontend.parse_transitions import TransitionReader
from compiler.frontend.parsed import ParseResult, RawDecorator, RawParameter, RawStep, StepExtra
from compiler.frontend.source import SourceFile, positions
from compiler.frontend.static_eval import EnvReads, NotStatic, Scope, dotted, evaluate

__all__ = ["parse_source", "ParseResult", "StepExtra", "PARAMETER_KINDS"]


@dataclass(frozen=True)
class _Pending:
    """A diagnostic whose position is a libcst node, materialized after the positions pass."""

    code: str
    severity: str
    message: str
    node: Any
    notes: tuple[str, ...] = ()


def _docstring(body) -> str | None:
    """The docstring opening a class or function body, when it is a plain string literal."""
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine) and first.body and isinstance(first.body[0], cst.Expr) \
            and isinstance(first.body[0].value, cst.SimpleString):
        try:
            value = first.body[0].value.evaluated_value
            return value if isinstance(value, str) else None
        except Exception:  # an f-string-like or badly escaped literal: no docstring
            return None
    return None


def _decorator_expr_name(expr) -> str:
    inner = expr.func if isinstance(expr, cst.Call) else expr
    return dotted(inner) or "<expression>"


class Parser(TransitionReader, ParameterReader):
    """One file: walk the tree once, then materialize spans and the model."""

    def __init__(self, source: SourceFile, flow_name: str | None = None,
                 options: FrontendOptions | None = None):
        self.source = source
        self.flow_name = flow_name
        self.options = options or FrontendOptions()
        self.input_files: list[str] = []          # config files read (model.input_files)
        self.pending: list[_Pending] = []
        self.wanted: list[Any] = []
        self.diags: list[Diagnostic] = []
        self.foreign = ForeignFlows()                # base flow classes of sibling modules
        self._foreign_chains: dict[str, list] = {}
        self._foreign_of: dict[int, ForeignClass] = {}
        self._in_foreign: ForeignClass | None = None

    # -- helpers --------------------------------------------------------------------------
    def want(self, node):
        if node is not None:
            if self._in_foreign is not None:        # a node of a base class's own module
                self._foreign_of[id(node)] = self._in_foreign
                self._in_foreign.nodes.append(node)
            else:
                self.wanted.append(node)
        return node

    @contextlib.contextmanager
    def _reading(self, cls):
        """Read `cls` with the names and scope of its own module (a base from a sibling module);
        the flow's configs and class constants stay visible, as in the class body."""
        ctx = self.foreign.by_class.get(id(cls))
        if ctx is None:
            yield
            return
        main_names, main_scope = self.names, self.scope
        for attr in ("config_refs", "config_names", "config_attrs", "class_assigns", "env"):
            setattr(ctx.scope, attr, getattr(main_scope, attr))
        ctx.scope._class_cache = main_scope._class_cache
        self.names, self.scope, self._in_foreign = ctx.names, ctx.scope, ctx
        try:
            yield
        finally:
            self.names, self.scope, self._in_foreign = main_names, main_scope, None

    def not_static(self, exc: NotStatic, what: str, when: str = "the flow runs") -> None:
        """Report an argument that did not evaluate: a config error keeps its own code (none:
        already reported where the config is declared), anything else is FC201."""
        code = getattr(exc, "code", "FC201")
        if code == "FC201":
            self.report(code, f"{what} is not known before {when}: {exc.reason}", exc.node)
        elif code:
            self.report(code, f"{what}: {exc.reason}", exc.node)

    def report(self, code, message, node, severity=None, notes=()):
        from compiler.diagnostics.codes import get
        sev = severity or (get(code).severity if get(code) else ERROR)
        self.want(node)
        self.pending.append(_Pending(code, sev, message, node, tuple(notes)))

    def run(self) -> ParseResult:
        module = self._parse_module()
        if isinstance(module, Diagnostic):
            return ParseResult(self.source, None, [module])
        self.module = module
        self.names = Names(module)
        path = self.source.path
        self.directory = os.path.dirname(os.path.abspath(path)) if path and path != "<string>" else None
        self.scope = Scope.from_module(module, self.directory,
                                       file=os.path.abspath(path) if self.directory else None)
        if self.options.resolve_env:
            self.scope.env = EnvReads(self.options.env())
        cls = self._choose_class(module)
        result = ParseResult(self.source, None, [])
        result.module_functions = set(self.scope.defs)
        if cls is not None:
            self._read_flow(cls)
        self.spans = positions(module, self.wanted) if self.wanted else {}
        if cls is not None:
            result.model = self._materialize(result)
        for p in self.pending:
            self.diags.append(Diagnostic(p.code, p.severity, p.message, self._span(p.node),
                                         path=path, notes=p.notes + self._where_inherited(p.node)))
        result.diagnostics = self.diags
        return result

    def _where_inherited(self, node) -> tuple[str, ...]:
        """For a node of a base class's module: a note naming its own file, line and column."""
        ctx = self._foreign_of.get(id(node)) if node is not None else None
        if ctx is None:
            return ()
        found = getattr(ctx, "spans", None)
        if found is None:
            found = ctx.spans = positions(ctx.module, ctx.nodes)   # type: ignore[attr-defined]
        span = found.get(id(node))
        rel = os.path.relpath(ctx.path, self.directory) if self.directory else ctx.path
        return ("in the base class %s, %s%s" % (ctx.cls.name.value, rel,
                                                ":%d:%d" % (span.line, span.col) if span else ""),)

    def _parse_module(self) -> cst.Module | Diagnostic:
        """The libcst module, or the FC001 syntax error (placed where Python's own parser puts it)."""
        src = self.source
        try:
            return cst.parse_module(src.text)
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
            return Diagnostic("FC001", ERROR, f"syntax error: {msg}", src.clamp(Span.point(line, col)), path=src.path)
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:
            return Diagnostic("FC001", ERROR, f"syntax error: {type(exc).__name__}: {exc}"[:300],
                              Span.point(1, 1), path=src.path)

    def _span(self, node) -> Span:
        if node is None:
            return None  # type: ignore[return-value]  # only where the parser has no node: no span
        ctx = self._foreign_of.get(id(node))
        if ctx is not None:                 # defined in a base's module: where the flow names it
            node = ctx.ref
        s = self.source.clamp(self.spans.get(id(node)))
        return s if s is not None else Span.point(1, 1)

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
                    else:       # a flow class of a module beside the flow (compiler/frontend/inherit.py)
                        foreign = self.foreign.resolve(arg.value, self.scope, arg.value)
                        for key, base in foreign or ():
                            flows.setdefault(key, base)
                            self.flow_bases.setdefault(key, [])
                        if foreign:
                            is_flow = True
                            local_bases.append(foreign[-1][0])
                            self._foreign_chains[foreign[-1][0]] = foreign
                            self.want(arg.value)
                if is_flow:
                    flows[name] = c
                    self.flow_bases[name] = local_bases
                    changed = True
        self.flows = flows
        flows = {k: v for k, v in flows.items() if id(v) not in self.foreign.by_class}
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

        def visit(c, key):
            if key in seen:
                return
            seen.add(key)
            for b in self.flow_bases.get(key, []):
                if b in self.flows and id(self.flows[b]) in self.foreign.by_class:
                    for fkey, fcls in self._foreign_chain(b):
                        if fkey not in seen:
                            seen.add(fkey)
                            chain.append(fcls)
                else:
                    visit(self.flows[b], b)
            chain.append(c)

        visit(cls, cls.name.value)
        return chain

    def _foreign_chain(self, key):
        """A foreign base's own chain (bases first), as inherit.ForeignFlows resolved it."""
        return self._foreign_chains.get(key, [(key, self.flows[key])])

    # -- flow body ------------------------------------------------------------------------
    def _read_flow(self, cls: cst.ClassDef) -> None:
        """Walk the flow class and its base flows (bases first, so the subclass's definitions win)."""
        self.model_cls = cls
        self._order: dict[int, int] = {}
        self.want(cls.name)
        self.raw_steps: dict[str, RawStep] = {}
        self.raw_params: list[RawParameter] = []
        self.non_step_nodes: dict[str, cst.Name] = {}
        self.duplicate_nodes: list[tuple[str, cst.Name, cst.Name]] = []
        # Configs first: every other argument may read them (Metaflow resolves them first too).
        chain = self._class_chain(cls)
        for c in chain:
            with self._reading(c):
                for small in self._class_assigns(c):
                    self._read_param(small, configs=True)
        config_refs = self._resolve_configs()
        self.scope.class_assigns = self._class_constants(chain)
        # flow decorators of the bases too (Metaflow inherits them); the flow's own replace a
        # base's of the same name
        inherited: dict[str, RawDecorator] = {}
        for c in chain[:-1]:
            with self._reading(c):
                for d in c.decorators:
                    raw = self._read_decorator(d)      # config_expr only
                    inherited[raw.name] = raw
        own_decos = [self._read_decorator(d) for d in cls.decorators]
        self.flow_decos = [r for n, r in inherited.items() if n not in {o.name for o in own_decos}] + own_decos
        self.scope.config_refs = config_refs     # the class body sees its configs by attribute
        for c in chain:
            own = c is cls
            with self._reading(c):
                for stmt in c.body.body:
                    if isinstance(stmt, cst.FunctionDef):
                        self._read_method(stmt, own)
                    elif isinstance(stmt, cst.SimpleStatementLine):
                        for small in stmt.body:
                            if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                                self._read_param(small, configs=False)
        self.raw_params.sort(key=lambda p: self._order[id(p.call)])

    def _class_constants(self, chain) -> dict[str, cst.BaseExpression]:
        """Plain class attributes (`NUM_GPUS = 8`, not Parameters): the class body's decorators
        see them, as Python evaluates a decorator in the class namespace. A name assigned twice
        is left out (its value depends on where the decorator stands)."""
        found: dict[str, cst.BaseExpression] = {}
        twice: set[str] = set()
        for c in chain:
            own: set[str] = set()
            for small in self._class_assigns(c):
                targets = small.targets if isinstance(small, cst.Assign) else [small]
                if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
                    continue
                name = targets[0].target.value
                value = small.value
                if isinstance(value, cst.Call) and self.names.resolve(value.func)[0] in PARAMETER_KINDS:
                    continue
                if name in own:
                    twice.add(name)
                own.add(name)
                found[name] = value           # a subclass's assignment wins over its base's
        return {k: v for k, v in found.items() if k not in twice}

    def _class_assigns(self, c: cst.ClassDef):
        for stmt in c.body.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                        self._order.setdefault(id(small.value), len(self._order))
                        yield small

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
                self.non_step_nodes[name] = func.name
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
                    self.not_static(exc, f"@step({arg.keyword.value}=...)", "the run")
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
            if prev.own and own:
                self.duplicate_nodes.append((name, prev.func.name, func.name))
        decos = [self._read_decorator(d) for d in others]
        params = func.params
        raw = RawStep(func=func, own=own, decorators=decos, is_start=is_start, is_end=is_end,
                      num_args=len(params.posonly_params) + len(params.params), tail=tail, nested=nested,
                      docstring=_docstring(func.body.body if isinstance(func.body, cst.IndentedBlock) else []))
        for n in nested:
            self.want(n)
        if tail is not None:
            self.want(tail)
            raw.transition = self._read_transition(tail, raw)
        self.raw_steps.pop(name, None)      # a redefinition moves the step to its new place
        self.raw_steps[name] = raw

    def _read_decorator(self, d: cst.Decorator) -> RawDecorator:
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
                        self.not_static(exc, f"@{name}(**...)", "the run")
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
                    if key in UNREAD_ARGUMENTS.get(name, ()):
                        continue
                    try:
                        args[key] = evaluate(a.value, self.scope)
                    except NotStatic as exc:
                        self.not_static(exc, f"@{name}({key}=...)")
        return RawDecorator(name=name, origin=origin, local=local, args=args, arg_nodes=arg_nodes,
                            positional=positional, node=expr)

    # -- spans and model ------------------------------------------------------------------
    def _materialize(self, result: ParseResult) -> FlowModel:
        """The model and lint's facts, now that every wanted node has a span."""
        sp = self._span
        cls = self.model_cls
        model = FlowModel(path=self.source.path, class_name=cls.name.value, span=sp(cls.name), steps={},
                          parameters=[], decorators=[self._deco(d) for d in self.flow_decos],
                          local_modules=local_modules(self.module, self.source.path, self.directory),
                          docstring=_docstring(cls.body.body), input_files=sorted(set(self.input_files)),
                          env_reads=dict(sorted(self.scope.env.read.items())) if self.scope.env else {})
        result.flow_decorators = self.flow_decos
        for name, raw in self.raw_steps.items():
            t = raw.transition
            if t is not None:
                t.span = sp(raw.tail)
            step = StepDef(name=name, span=sp(raw.func.name), decorators=[self._deco(d) for d in raw.decorators],
                           num_args=raw.num_args, transition=t, is_start=raw.is_start, is_end=raw.is_end,
                           docstring=raw.docstring)
            model.steps[name] = step
            result.steps[name] = StepExtra(tail_is_next=raw.tail is not None,
                                           nested_next=[sp(n) for n in raw.nested],
                                           target_spans={k: sp(v) for k, v in raw.target_nodes.items()},
                                           decorators=raw.decorators)
        result.non_step_methods = {k: sp(v) for k, v in self.non_step_nodes.items()}
        result.duplicate_steps = [(n, sp(a), sp(b)) for n, a, b in self.duplicate_nodes]
        model.parameters = [self._param(p) for p in self.raw_params]
        return model

    def _deco(self, d: RawDecorator) -> Decorator:
        d.model = Decorator(name=d.name, args=d.args, span=self._span(d.node),
                            arg_spans={k: self._span(v) for k, v in d.arg_nodes.items()})
        d.positional_spans = [self._span(n) for n in d.positional]
        return d.model


def parse_source(text: str, path: str = "<string>", flow_name: str | None = None,
                 options: FrontendOptions | None = None) -> ParseResult:
    return Parser(SourceFile(path=path, text=text), flow_name, options).run()
