"""Reading a step's transitions: the tail `self.next(...)` and any other self.next call.

A mixin of the Parser (parse.py): it uses the parser's `report`, `want` and `scope`.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from compiler.frontend.model import Transition
from compiler.frontend.parsed import RawStep
from compiler.frontend.static_eval import NotStatic, Scope, Symbol, evaluate


def is_self_attr(node) -> str | None:
    """`self.<name>` -> name."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def is_self_next(call) -> bool:
    return isinstance(call, cst.Call) and is_self_attr(call.func) == "next"


class _NextFinder(cst.CSTVisitor):
    def __init__(self):
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call):
        if is_self_next(node):
            self.calls.append(node)

    def visit_FunctionDef(self, node):   # nested functions: still report (they cannot transition)
        return True


class TransitionReader:
    scope: Scope

    def report(self, code: str, message: str, node: Any, severity: str | None = None, notes=()) -> None:
        raise NotImplementedError

    def want(self, node: Any) -> Any:
        raise NotImplementedError

    def _find_next(self, func):
        """(tail self.next call or None, self.next calls elsewhere in the body)."""
        tail = None
        body = func.body
        if isinstance(body, cst.IndentedBlock) and body.body:
            last = body.body[-1]
            if isinstance(last, cst.SimpleStatementLine) and last.body:
                small = last.body[-1]
                if isinstance(small, cst.Expr) and is_self_next(small.value):
                    tail = small.value
        elif isinstance(body, cst.SimpleStatementSuite) and body.body:
            small = body.body[-1]
            if isinstance(small, cst.Expr) and is_self_next(small.value):
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

    def _read_transition(self, call: cst.Call, raw: RawStep) -> Transition | None:
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
            t = is_self_attr(a.value)
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
        raw.target_nodes = target_nodes
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

    def _read_switch(self, call: cst.Call, dict_node: cst.Dict, kwargs: dict[str, cst.Arg], raw: RawStep
                     ) -> Transition | None:
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
        target_nodes: dict[str, cst.CSTNode] = {}
        for el in dict_node.elements:
            if not isinstance(el, cst.DictElement):   # a ** expansion
                self.report("FC118", "switch cases must be written out, not ** expanded", el.value)
                return None
            key_node = el.key
            key = None
            self_cfg = is_self_attr(key_node.value) if isinstance(key_node, cst.Attribute) else None
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
            target = is_self_attr(el.value)
            if target is None:
                self.report("FC118", "switch case values must be steps written as self.<step>", el.value)
                return None
            cases[str(key)] = target
            target_nodes.setdefault(target, self.want(el.value))
        if len(cases) < 2:
            self.report("FC118", f"a switch needs at least two cases, this one has {len(cases)}", dict_node)
            return None
        raw.target_nodes = target_nodes
        targets = list(dict.fromkeys(cases.values()))
        return Transition(kind="switch", targets=targets, span=None, condition=cond_value, cases=cases)
