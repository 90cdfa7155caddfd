"""Checking `--param name=value` against the flow's declarations, before anything runs or is sent.

Values stay strings here (they travel to the start task as text); the check runs the task's own
conversion (runtime_shim.params, the one parameter path), so what passes here converts there.
"""
from __future__ import annotations

from typing import Iterable

from compiler.frontend.model import ParameterDecl
from runtime_shim import params


class ParamError(ValueError):
    pass


def _spec(decl: ParameterDecl) -> dict:
    """The runtime spec's form of a declaration (what runtime_shim.params reads)."""
    return {"name": decl.name, "attr": decl.attr, "kind": decl.kind, "type": decl.type,
            "multiple": decl.multiple, "separator": decl.separator, "is_text": decl.is_text,
            "encoding": decl.encoding, "required": decl.required, "has_default": decl.has_default,
            "default": decl.default if decl.has_default else None}


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        try:
            name, value = params.split_assignment(item)
        except params.ParamError as error:
            raise ParamError(str(error)) from None
        values[name] = value
    return values


def _check_type(decl: ParameterDecl, value: str) -> str | None:
    """The task's own conversion (runtime_shim.params), run here before anything is sent; its
    message names the parameter."""
    return params.check(_spec(decl), value)


def check(declared: list[ParameterDecl], given: dict[str, str]) -> list[str]:
    """Every problem with the given values, as messages naming the parameter; empty when fine."""
    by_name = {p.name: p for p in declared}
    # Metaflow accepts the attribute spelling too (label_with_dash for label-with-dash).
    by_name.update({p.name.replace("-", "_"): p for p in declared if p.name.replace("-", "_") not in by_name})
    problems = []
    for name, value in given.items():
        decl = by_name.get(name)
        if decl is None:
            known = ", ".join(sorted(p.name for p in declared)) or "none"
            problems.append(f"unknown parameter {name!r} (the flow declares: {known})")
            continue
        if decl.kind == "parameter":
            issue = _check_type(decl, value)
            if issue:
                problems.append(issue)
    given_decls = {by_name[n].name for n in given if n in by_name}
    for decl in declared:
        if decl.required and decl.name not in given_decls:
            problems.append(f"parameter {decl.name!r} is required: pass --param {decl.name}=VALUE")
    return problems


def normalize(declared: list[ParameterDecl], given: dict[str, str]) -> dict[str, str]:
    """Given values keyed by declared parameter names (attribute spellings mapped back)."""
    by_attr = {p.name.replace("-", "_"): p.name for p in declared}
    return {by_attr.get(k, k) if k not in {p.name for p in declared} else k: v for k, v in given.items()}
