"""@trigger and @trigger_on_finish as one typed model, read by every target and by `flowc run`.

The forms and rules are Metaflow's (plugins/events_decorator.py, plugins/argo/argo_workflows.py
`_process_triggers`):
- `@trigger(event="name")`, `event={"name": ..., "parameters": ...}`, `events=[...]` (all of them
  must arrive: an AND); `parameters` is `{"flow_param": "payload_field"}` or a list of
  `"name"` / `("flow_param", "payload_field")`. A single event with no mapping maps every
  parameter (not Configs) to the payload field of the same name.
- `@trigger_on_finish(flow="Flow")`, `flow="project.branch.Flow"`,
  `flow={"name": "Flow", "project": ..., "project_branch": ...}`, `flows=[...]`: the upstream's
  completion event `metaflow.<project>.<branch>.<Flow>.end` (`metaflow.<Flow>.end` without a
  project); a flow under @project listens to its own project and branch unless told otherwise.
- Event names are `[A-Za-z0-9_.-]+`, payload fields `[A-Za-z0-9_]+` (so a field is never a path
  with meaning in gjson or JSONPath), parameter names are matched case-insensitively.

Problems are diagnostics FC240-FC246 with the position of the decorator (of the offending string
when it is written literally in the decorator).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import ERROR, WARNING, Diagnostic, Span

BAD_FORM = "FC240"
UNDECLARED_PARAMETER = "FC241"
BAD_EVENT_NAME = "FC242"
BAD_PAYLOAD_FIELD = "FC243"
DUPLICATE = "FC244"
BAD_FLOW_NAME = "FC245"
UNKNOWN_OPTION = "FC246"

EVENT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
PAYLOAD_FIELD = re.compile(r"^[A-Za-z0-9_]+$")
FLOW_NAME = re.compile(r"^[A-Za-z0-9_]+$")
OPTIONS = ("reset_at",)          # Argo: conditionsReset {cron, timezone} (Metaflow's one option)


@dataclass(frozen=True)
class EventDependency:
    """One event the flow waits for."""

    name: str                                   # the event name (payload field `name`)
    kind: str                                   # "event" (@trigger) | "run" (@trigger_on_finish)
    parameters: tuple[tuple[str, str], ...] = ()   # (flow parameter name, payload field)
    flow: str | None = None                     # run: the upstream FlowSpec class
    project: str | None = None                  # run: the upstream's @project name and branch
    branch: str | None = None

    @property
    def upstream_parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.project, self.branch, self.flow) if p)


@dataclass
class Triggers:
    """What starts a deployed flow besides a user: every dependency must arrive (AND)."""

    dependencies: list[EventDependency] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.dependencies)

    def mapped_parameters(self) -> dict[str, tuple[str, str]]:
        """flow parameter -> (event name, payload field)."""
        return {p: (d.name, f) for d in self.dependencies for p, f in d.parameters}


def finish_event_name(parts: tuple[str, ...]) -> str:
    """The event a run of the flow named by (project, branch, Flow) or (Flow,) publishes when it
    succeeds (Metaflow's ArgoWorkflowsInternalDecorator: `metaflow.<project_flow_name>.end`)."""
    return "metaflow.%s.end" % ".".join(parts)


# --- positions -------------------------------------------------------------------------------
class _Locator:
    """Finds the flow's @trigger/@trigger_on_finish in the source, and literal strings inside it."""

    def __init__(self, path: str, flow_name: str):
        self.calls: dict[str, ast.expr] = {}
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError, ValueError):
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == flow_name:
                for deco in node.decorator_list:
                    func = deco.func if isinstance(deco, ast.Call) else deco
                    name = func.id if isinstance(func, ast.Name) else \
                        func.attr if isinstance(func, ast.Attribute) else None
                    if name in ("trigger", "trigger_on_finish"):
                        self.calls.setdefault(name, deco)

    def span(self, deco: str, literal: str | None = None) -> Span | None:
        node = self.calls.get(deco)
        if node is None:
            return None
        target: ast.expr = node
        if literal is not None:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Constant) and sub.value == literal:
                    target = sub
                    break
        return Span(target.lineno, target.col_offset + 1, target.end_lineno or target.lineno,
                    (target.end_col_offset or target.col_offset) + 1)


# --- the model -------------------------------------------------------------------------------
def _event(raw: Any, problem) -> tuple[str, list[tuple[str, str]], bool] | None:
    """(name, [(param, field)], mapping given) of one @trigger event, or None after a problem."""
    if isinstance(raw, str):
        return raw, [], False
    if not isinstance(raw, dict):
        problem(BAD_FORM, "an event is a name or a dict {'name': ..., 'parameters': ...}", None)
        return None
    name = raw.get("name")
    if not isinstance(name, str):
        problem(BAD_FORM, "the event dict has no 'name' string", None)
        return None
    unknown = sorted(set(raw) - {"name", "parameters"})
    if unknown:
        problem(BAD_FORM, f"event {name!r}: unknown key(s) {', '.join(map(repr, unknown))}", unknown[0])
    params = raw.get("parameters") or {}
    pairs: list[tuple[str, str]] = []
    if isinstance(params, dict):
        items = list(params.items())
    elif isinstance(params, (list, tuple)):
        items = []
        for entry in params:
            if isinstance(entry, str):
                items.append((entry, entry))
            elif isinstance(entry, (list, tuple)) and len(entry) == 2:
                items.append((entry[0], entry[1]))
            else:
                problem(BAD_FORM, f"event {name!r}: a parameters entry is a name or a (parameter, field) pair", None)
    else:
        problem(BAD_FORM, f"event {name!r}: parameters is a dict or a list", None)
        items = []
    for key, value in items:
        if not isinstance(key, str) or not isinstance(value, str):
            problem(BAD_FORM, f"event {name!r}: parameter mappings are strings", None)
            continue
        pairs.append((key, value))
    return name, pairs, bool(items)


def _upstream(raw: Any, problem) -> tuple[str, str | None, str | None] | None:
    """(Flow, project, branch) of one @trigger_on_finish flow, or None after a problem."""
    project = branch = None
    if isinstance(raw, dict):
        name = raw.get("name")
        if not isinstance(name, str) or "." in name:
            problem(BAD_FLOW_NAME, "the flow dict needs a 'name' that is a flow class name", None)
            return None
        project, branch = raw.get("project"), raw.get("project_branch")
        for key, value in (("project", project), ("project_branch", branch)):
            if value is not None and not isinstance(value, str):
                problem(BAD_FORM, f"flow {name!r}: {key} is a string", None)
                return None
        flow = name
    elif isinstance(raw, str):
        dots = raw.count(".")
        if dots == 0:
            flow = raw
        elif dots >= 2:
            project, tail = raw.split(".", 1)
            branch, flow = tail.rsplit(".", 1)
        else:
            problem(BAD_FLOW_NAME, f"flow {raw!r}: give FlowName or project.branch.FlowName", raw)
            return None
    else:
        problem(BAD_FORM, "a flow is a name or a dict {'name': ..., 'project': ..., 'project_branch': ...}", None)
        return None
    if not FLOW_NAME.match(flow):
        problem(BAD_FLOW_NAME, f"flow name {flow!r}: only letters, digits and _ are allowed",
                raw if isinstance(raw, str) else flow)
        return None
    return flow, project, branch


def analyze(plan: Any) -> tuple[Triggers, list[Diagnostic]]:
    """The flow's triggers (plan: a FlowPlan) and every problem with them."""
    diags: list[Diagnostic] = []
    out = Triggers()
    if not plan.triggers:
        return out, diags
    where = _Locator(plan.path, plan.flow_name)
    declared = {p.name.lower(): p for p in plan.parameters if p.kind != "config"}
    seen_params: set[str] = set()
    seen_events: set[str] = set()
    for deco in plan.triggers:
        kind = deco.get("kind", "trigger")

        def problem(code: str, message: str, literal: Any, severity: str = ERROR, kind=kind) -> None:
            diags.append(Diagnostic(code, severity, f"@{kind}: {message}",
                                    where.span(kind, literal if isinstance(literal, str) else None)))

        single, many = ("event", "events") if kind == "trigger" else ("flow", "flows")
        if deco.get(single) and deco.get(many):
            problem(BAD_FORM, f"give {single}= or {many}=, not both", None)
            continue
        raws = [deco[single]] if deco.get(single) else list(deco.get(many) or [])
        if not raws:
            problem(BAD_FORM, f"no {many} given", None)
            continue
        for key in sorted(set(deco.get("options") or {}) - set(OPTIONS)):
            problem(UNKNOWN_OPTION, f"option {key!r} is not known (known: {', '.join(OPTIONS)}); it is ignored",
                    key, WARNING)
        out.options.update(deco.get("options") or {})
        deps: list[EventDependency] = []
        if kind == "trigger":
            parsed = [e for e in (_event(r, problem) for r in raws) if e is not None]
            for name, pairs, _ in parsed:
                if not EVENT_NAME.match(name):
                    problem(BAD_EVENT_NAME, f"event name {name!r}: only letters, digits, _, - and . are allowed", name)
                    continue
                mapped = []
                for param, payload_field in pairs:
                    if not PAYLOAD_FIELD.match(payload_field):
                        problem(BAD_PAYLOAD_FIELD, f"event {name!r}: payload field {payload_field!r}: only letters, "
                                "digits and _ are allowed", payload_field)
                        continue
                    decl = declared.get(param.lower())
                    if decl is None:
                        known = ", ".join(sorted(p.name for p in declared.values())) or "none"
                        problem(UNDECLARED_PARAMETER, f"event {name!r} maps payload field {payload_field!r} to "
                                f"parameter {param!r}, which the flow does not declare (parameters: {known})", param)
                        continue
                    if decl.name.lower() in seen_params:
                        problem(DUPLICATE, f"parameter {param!r} is mapped by more than one event field", param)
                        continue
                    seen_params.add(decl.name.lower())
                    mapped.append((decl.name, payload_field))
                deps.append(EventDependency(name, "event", tuple(mapped)))
            if len(parsed) == 1 and deps and not parsed[0][2]:
                # Metaflow: one event, no mapping -> every parameter from the field of its name
                auto = tuple((p.name, p.name) for p in declared.values() if PAYLOAD_FIELD.match(p.name))
                deps[0] = EventDependency(deps[0].name, "event", auto)
        else:
            for raw in raws:
                got = _upstream(raw, problem)
                if got is None:
                    continue
                flow, project, branch = got
                project = project or plan.project
                branch = branch or (plan.project_branch if plan.project else None)
                if bool(project) != bool(branch):
                    problem(BAD_FLOW_NAME, f"flow {flow!r}: give both project and project_branch, or use @project",
                            flow)
                    continue
                parts = tuple(p for p in (project, branch, flow) if p)
                deps.append(EventDependency(finish_event_name(parts), "run", (), flow, project, branch))
        for dep in deps:
            if dep.name in seen_events:
                problem(DUPLICATE, f"event {dep.name!r} is named twice", dep.name)
                continue
            seen_events.add(dep.name)
            out.dependencies.append(dep)
    return out, diags


def decorator_span(plan: Any) -> Span | None:
    """Where the flow's @trigger (else @trigger_on_finish) is."""
    where = _Locator(plan.path, plan.flow_name)
    return where.span("trigger") or where.span("trigger_on_finish")


def payload_values(triggers: Triggers, payloads: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The parameter values the mapped payload fields give: payloads is event name -> payload.
    A field that is absent leaves its parameter to its default (as the Argo Sensor does)."""
    values: dict[str, Any] = {}
    for dep in triggers.dependencies:
        payload = payloads.get(dep.name) or {}
        for param, payload_field in dep.parameters:
            if payload_field in payload:
                values[param] = payload[payload_field]
    return values


__all__ = ["EventDependency", "Triggers", "analyze", "decorator_span", "finish_event_name", "payload_values",
           "BAD_FORM", "UNDECLARED_PARAMETER", "BAD_EVENT_NAME", "BAD_PAYLOAD_FIELD", "DUPLICATE",
           "BAD_FLOW_NAME", "UNKNOWN_OPTION"]
