"""Checking `--param name=value` against the flow's declarations, before anything runs or is sent.

Values stay strings here (they travel to the start task as text); the check only proves they will
convert there with the declared type.
"""
from __future__ import annotations

import json
from typing import Iterable

from compiler.frontend.model import ParameterDecl

_BOOLS = {"true", "false", "1", "0", "yes", "no", "y", "n", "t", "f"}


class ParamError(ValueError):
    pass


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParamError(f"--param {item!r}: expected name=value")
        values[name.strip()] = value
    return values


def _check_type(decl: ParameterDecl, value: str) -> str | None:
    try:
        if decl.type == "int":
            int(value)
        elif decl.type == "float":
            float(value)
        elif decl.type == "bool" and value.strip().lower() not in _BOOLS:
            return f"expected true or false, got {value!r}"
        elif decl.type == "json":
            json.loads(value)
    except ValueError:
        return f"expected a value of type {decl.type}, got {value!r}"
    return None


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
                problems.append(f"parameter {decl.name!r}: {issue}")
    given_decls = {by_name[n].name for n in given if n in by_name}
    for decl in declared:
        if decl.required and decl.name not in given_decls:
            problems.append(f"parameter {decl.name!r} is required: pass --param {decl.name}=VALUE")
    return problems


def normalize(declared: list[ParameterDecl], given: dict[str, str]) -> dict[str, str]:
    """Given values keyed by declared parameter names (attribute spellings mapped back)."""
    by_attr = {p.name.replace("-", "_"): p.name for p in declared}
    return {by_attr.get(k, k) if k not in {p.name for p in declared} else k: v for k, v in given.items()}
