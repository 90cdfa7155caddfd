"""The runtime spec (`flowc.json`): the part of the plan that the runtime needs inside a container.

Its format is the contract in docs/runtime-contract.md. Serialized with sorted keys, so the same
flow gives the same bytes and the same code package hash.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from compiler.diagnostics import Diagnostic, has_errors
from compiler.frontend.model import ParameterDecl
from compiler.ir import FlowPlan, StepPlan
from compiler.settings import Settings

FORMAT = 1


def _parameter(p: ParameterDecl) -> dict[str, Any]:
    # The raw default: the runtime converts it by type (docs/runtime-contract.md). default_text is
    # for the targets' workflow arguments and stays out of the spec (its bytes are hashed).
    return {
        "name": p.name, "attr": p.attr, "kind": p.kind, "type": p.type,
        "has_default": p.has_default, "default": p.default if p.has_default else None,
        "required": p.required, "multiple": p.multiple, "separator": p.separator,
        "is_text": p.is_text, "encoding": p.encoding, "help": p.help,
    }


def _config(p: ParameterDecl) -> dict[str, Any]:
    return dict(_parameter(p), plain=p.plain)


def _step(s: StepPlan) -> dict[str, Any]:
    return {
        "kind": s.kind, "next": list(s.next), "in": list(s.in_), "depth": s.depth,
        "foreach_var": s.foreach_var, "num_parallel": s.num_parallel,
        "condition": s.condition, "cases": dict(s.cases), "recursive": s.recursive,
        "join_of": s.join_of, "matching_join": s.matching_join,
        "retry": {"times": s.retry.times, "minutes_between": s.retry.minutes_between},
        "timeout_seconds": s.timeout_seconds, "catch": s.catch, "catch_var": s.catch_var, "catch_print": s.catch_print,
        "env": dict(s.env),
        "secrets": list(s.secret_sources),      # names only: values are read inside the task
        # @pypi/@conda packages (runtime_shim/packages.py), only when there are some
        **({"packages": dict(s.packages)} if s.packages else {}),
    }


def build(plan: FlowPlan) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "flow_name": plan.flow_name,
        "flow_file": plan.flow_file,
        "start": plan.start,
        "end": plan.end,
        "project": {"name": plan.project, "branch": plan.project_branch} if plan.project else None,
        # Configs travel as parameters whose default is the value the compiler resolved (the
        # task stores them as artifacts; runtime_shim.params refuses a run-time value for them).
        "parameters": [_parameter(p) for p in plan.parameters] + [_config(p) for p in plan.configs],
        "steps": {name: _step(step) for name, step in plan.steps.items()},
        # @exit_hook: [event, function] pairs, only when there are some (flowc run reads them)
        **({"exit_hooks": [list(h) for h in plan.exit_hooks]} if plan.exit_hooks else {}),
    }


def dumps(spec: dict[str, Any]) -> bytes:
    return json.dumps(spec, sort_keys=True, indent=1, default=repr).encode("utf-8")


def plan_for_file(path: str, flow_name: str | None = None, settings: Settings | None = None,
                  with_options: tuple[str, ...] = (), cache: Any = None) -> tuple[FlowPlan | None, list[Diagnostic]]:
    """Front end + lowering for one file: the plan, or None and the diagnostics that stop it.

    No settings: the defaults (lower does not read the environment; `settings.resolve` does)."""
    from compiler.frontend.api import analyze_file
    from compiler.frontend.configs import options_from_settings
    from compiler.lower import include_file_problems, lower, with_diagnostics

    analysis = analyze_file(path, flow_name=flow_name, options=options_from_settings(settings),
                            cache=cache)   # cache: frontend.cache.AnalysisCache
    diagnostics = list(analysis.diagnostics)
    specs, with_diags = with_diagnostics(with_options)
    diagnostics.extend(dataclasses.replace(d, path=d.path or path) for d in with_diags)   # `flow.py: FC501 ...`
    if has_errors(diagnostics) or analysis.graph is None:
        return None, diagnostics
    plan = lower(analysis.graph, settings, specs)
    problems = include_file_problems(plan)
    diagnostics.extend(problems)
    return (None if problems else plan), diagnostics


def spec_for_file(path: str, flow_name: str | None = None,
                  cache: Any = None) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    plan, diagnostics = plan_for_file(path, flow_name, cache=cache)
    return (build(plan) if plan else None), diagnostics
