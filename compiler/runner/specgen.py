"""A small, self-contained builder of the runtime spec (flowc.json) from a flow file, with `ast`.

The real builder is `compiler.runtime_spec.spec_for_file` (front end + lowering, with
diagnostics). This one is the runner's fallback while that module is not available, and the
test suite's way to build specs for hand-written test flows. It evaluates decorator and
Parameter arguments that are literals, module constants, simple arithmetic and dict(...).
"""
from __future__ import annotations

import ast
import os
from typing import Any

_COMPUTE_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600}


class SpecError(Exception):
    pass


class _Eval:
    def __init__(self, tree: ast.Module):
        self.env: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                try:
                    self.env[node.targets[0].id] = self(node.value)
                except SpecError:
                    pass

    def __call__(self, node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in ("int", "float", "bool", "str", "JSONType"):
                return {"int": "int", "float": "float", "bool": "bool", "str": "str",
                        "JSONType": "json"}[node.id]
            raise SpecError("cannot evaluate name %s" % node.id)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [self(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    out.update(self(v))
                else:
                    out[self(k)] = self(v)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = self(node.left), self(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.Div: lambda: a / b, ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b,
                   ast.Pow: lambda: a ** b}
            if type(node.op) in ops:
                return ops[type(node.op)]()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            out = {}
            for a in node.args:
                out.update(self(a))
            for kw in node.keywords:
                if kw.arg is None:
                    out.update(self(kw.value))
                else:
                    out[kw.arg] = self(kw.value)
            return out
        if isinstance(node, ast.JoinedStr):
            return "".join(str(self(v.value)) if isinstance(v, ast.FormattedValue) else v.value
                           for v in node.values)
        raise SpecError("cannot evaluate %s statically" % ast.dump(node)[:60])

    def kwargs(self, call: ast.Call, positional=()) -> dict:
        out = {}
        for name, a in zip(positional, call.args):
            try:
                out[name] = self(a)
            except SpecError:
                pass
        for kw in call.keywords:
            try:
                if kw.arg is None:
                    out.update(self(kw.value))
                else:
                    out[kw.arg] = self(kw.value)
            except SpecError:
                pass
        return out


def _deco_name(d):
    f = d.func if isinstance(d, ast.Call) else d
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return None


def _bases_flowspec(cls: ast.ClassDef) -> bool:
    return any((isinstance(b, ast.Name) and b.id == "FlowSpec")
               or (isinstance(b, ast.Attribute) and b.attr == "FlowSpec") for b in cls.bases)


def build_spec(path: str, flow_name: str | None = None) -> dict:
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    ev = _Eval(tree)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and _bases_flowspec(n)]
    if flow_name:
        classes = [c for c in classes if c.name == flow_name]
    if len(classes) != 1:
        raise SpecError("expected exactly one FlowSpec class in %s%s" % (
            path, " named %s" % flow_name if flow_name else ""))
    cls = classes[0]
    project = None
    for d in cls.decorator_list:
        if _deco_name(d) == "project" and isinstance(d, ast.Call):
            project = ev.kwargs(d, ("name",)).get("name")

    params = []
    steps: dict[str, dict] = {}
    start = end = None
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            kind = {"Parameter": "parameter", "IncludeFile": "include_file",
                    "Config": "config"}.get(_deco_name(node.value))
            if kind:
                kw = ev.kwargs(node.value, ("name",))
                has_default = "default" in kw or "default_value" in kw
                default = kw.get("default", kw.get("default_value"))
                ptype = kw.get("type")
                if ptype not in ("int", "float", "bool", "str", "json"):
                    ptype = None
                if ptype is None:
                    if isinstance(default, bool):
                        ptype = "bool"
                    elif isinstance(default, int):
                        ptype = "int"
                    elif isinstance(default, float):
                        ptype = "float"
                    elif kind == "config":
                        ptype = "json"
                    else:
                        ptype = "str"
                params.append({
                    "name": kw.get("name", node.targets[0].id), "attr": node.targets[0].id,
                    "kind": kind, "type": ptype, "has_default": has_default, "default": default,
                    "required": bool(kw.get("required", False)),
                    "multiple": bool(kw.get("multiple", False)),
                    "separator": kw.get("separator"), "is_text": kw.get("is_text", True),
                    "encoding": kw.get("encoding", "utf-8"), "help": kw.get("help"),
                })
        if not isinstance(node, ast.FunctionDef):
            continue
        decos = {}
        is_step = False
        for d in node.decorator_list:
            name = _deco_name(d)
            args = ev.kwargs(d) if isinstance(d, ast.Call) else {}
            if name == "step":
                is_step = True
                if args.get("start"):
                    start = node.name
                if args.get("end"):
                    end = node.name
            elif name:
                decos[name] = args
        if not is_step:
            continue
        trans = None
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                    and sub.func.attr == "next" and isinstance(sub.func.value, ast.Name) \
                    and sub.func.value.id == "self":
                trans = sub
        nxt, cases, foreach, condition, num_parallel = [], {}, None, None, None
        if trans is not None:
            for a in trans.args:
                if isinstance(a, ast.Attribute):
                    nxt.append(a.attr)
                elif isinstance(a, ast.Dict):
                    for k, v in zip(a.keys, a.values):
                        cases[str(ev(k))] = v.attr
                        if v.attr not in nxt:
                            nxt.append(v.attr)
            kw = ev.kwargs(trans)
            foreach, condition, num_parallel = kw.get("foreach"), kw.get("condition"), \
                kw.get("num_parallel")
        if condition:
            kind = "switch"
        elif foreach:
            kind = "foreach"
        elif num_parallel:
            kind = "parallel"
        elif len(nxt) > 1:
            kind = "split"
        else:
            kind = "linear"
        if len(node.args.args) >= 2:
            kind = "join"
        timeout = None
        if "timeout" in decos:
            t = decos["timeout"]
            timeout = sum(int(t.get(u, 0) or 0) * m for u, m in _COMPUTE_UNITS.items()) or None
        env = {}
        if "environment" in decos:
            env = {str(k): str(v) for k, v in (decos["environment"].get("vars") or {}).items()}
        catch = decos.get("catch")
        retry = decos.get("retry")
        steps[node.name] = {
            "kind": kind, "next": nxt, "in": [], "depth": 0,
            "foreach_var": foreach, "num_parallel": num_parallel, "condition": condition,
            "cases": cases, "recursive": node.name in cases.values(), "join_of": None,
            "matching_join": None,
            "retry": {"times": int(retry.get("times", 3)) if retry is not None else 0,
                      "minutes_between": int(retry.get("minutes_between_retries", 2))
                      if retry is not None else 2},
            "timeout_seconds": timeout,
            "catch": catch is not None,
            "catch_var": catch.get("var") if catch is not None else None,
            "catch_print": bool(catch.get("print_exception", True)) if catch else True,
            "env": env,
        }
    start = start or ("start" if "start" in steps else None)
    end = end or ("end" if "end" in steps else None)
    if start is None or end is None:
        raise SpecError("flow %s needs a start and an end step" % cls.name)
    for name, s in steps.items():
        for n in s["next"]:
            if n not in steps:
                raise SpecError("step %s goes to unknown step %s" % (name, n))
            if name not in steps[n]["in"]:
                steps[n]["in"].append(name)
    steps[start]["kind"] = "start" if steps[start]["kind"] == "linear" else steps[start]["kind"]
    steps[end]["kind"] = "end"
    # scopes: a stack of enclosing splits (switches do not open a scope)
    scope: dict[str, tuple] = {start: ()}
    order = [start]
    i = 0
    while i < len(order):
        name = order[i]
        i += 1
        s = steps[name]
        stack = scope[name]
        for n in s["next"]:
            if n in scope:
                continue
            if steps[n]["kind"] == "join":
                if not stack:
                    raise SpecError("join %s closes no split" % n)
                steps[n]["join_of"] = stack[-1]
                steps[stack[-1]]["matching_join"] = n
                scope[n] = stack[:-1]
            elif s["kind"] in ("split", "foreach", "parallel"):
                scope[n] = stack + (name,)
            else:
                scope[n] = stack
            order.append(n)
    for name, s in steps.items():
        s["depth"] = sum(1 for sp in scope.get(name, ()) if steps[sp]["kind"] in
                         ("foreach", "parallel"))
    return {
        "format": 1, "flow_name": cls.name, "flow_file": os.path.basename(path),
        "start": start, "end": end, "project": project, "parameters": params, "steps": steps,
    }
