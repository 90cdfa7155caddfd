"""The flow graph as Argo DAG templates.

- `main`: the steps outside any foreach.
- one DAG template per foreach (or num_parallel) split: the body, fanned out from the split's task
  with `withSequence.count` = the split's `num-splits` output; each instance gets the index path
  extended by `{{item}}`. Bodies nest to any depth. The join runs in the enclosing DAG after the
  fan-out task.
- switches: each case step has `when` on the switch task's `branch` output; a step where cases
  converge uses `depends` with `||` over `.Succeeded`, so it runs exactly once (the cases that were
  not chosen are Skipped, the steps after them Omitted: docs/enhanced-depends-logic.md).
- a recursive switch (a case that loops back to the switch itself) is a recursive DAG template:
  run the step at `iteration`, and call itself with iteration + 1 when the branch is the step
  itself; the final branch is its `branch` output (valueFrom.expression).

Every dependency uses `depends` with explicit results (`X.Succeeded`), so a step after a skipped
case is Omitted rather than run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.ir import FlowPlan, StepPlan
from compiler.targets.argo.names import Namespace
from compiler.targets.argo.templates import BRANCH, INDEX_PATH, ITERATION, NUM_SPLITS

MAIN = "main"


@dataclass
class Layout:
    scope: dict[str, str | None]                   # step -> the foreach split whose body holds it
    templates: dict[str, str]                      # step -> its container template name
    bodies: dict[str, str] = field(default_factory=dict)   # foreach step -> body DAG template name
    loops: dict[str, str] = field(default_factory=dict)    # recursive switch -> loop template name


def scopes(plan: FlowPlan) -> dict[str, str | None]:
    scope: dict[str, str | None] = {plan.start: None}
    for name, step in plan.steps.items():           # topological order
        for nxt in step.next:
            if nxt == name or nxt in scope:
                continue
            target = plan.steps[nxt]
            if step.is_foreach:
                scope[nxt] = name
            elif target.closes_foreach and target.join_of is not None:
                scope[nxt] = scope.get(target.join_of)
            else:
                scope[nxt] = scope[name]
    return scope


def layout(plan: FlowPlan) -> Layout:
    names = Namespace(reserved=(MAIN,))
    templates = {s: names.add(s) for s in plan.steps}
    out = Layout(scopes(plan), templates)
    for s, step in plan.steps.items():
        if step.is_foreach:
            out.bodies[s] = names.add(s + "-foreach", key="foreach:" + s)
        if step.recursive:
            out.loops[s] = names.add(s + "-loop", key="loop:" + s)
    return out


def _index_arg(step_scope_depth: int) -> str:
    return "{{inputs.parameters.%s}}" % INDEX_PATH


def _branch_ref(task: str) -> str:
    return "{{tasks.%s.outputs.parameters.%s}}" % (task, BRANCH)


class _DagBuilder:
    def __init__(self, plan: FlowPlan, lay: Layout, scope: str | None):
        self.plan, self.lay, self.scope = plan, lay, scope
        self.members = [s for s in plan.steps if lay.scope.get(s) == scope]
        ns = Namespace()
        self.task = {s: ns.add(s) for s in self.members}
        self.body_task = {s: ns.add(s + "-body", key="body:" + s)
                          for s in self.members if plan.steps[s].is_foreach}

    def _base_args(self, step: StepPlan) -> list[dict[str, str]]:
        return [{"name": INDEX_PATH, "value": "{{inputs.parameters.%s}}" % INDEX_PATH}] if step.depth > 0 else []

    def _deps(self, step: StepPlan) -> tuple[list[str], str | None]:
        """The task names this step's task waits for, and its `when` (switch cases)."""
        deps: list[str] = []
        when = None
        for pred in step.in_:
            if pred == step.name:
                continue
            p = self.plan.steps[pred]
            if self.lay.scope.get(pred) == self.scope:
                task = self.task[pred]
            elif step.closes_foreach and step.join_of in self.body_task:
                task = self.body_task[step.join_of]
            else:
                continue                         # the first step of a body: its split is outside
            if task not in deps:
                deps.append(task)
            if p.kind == "switch" and step.name in p.cases.values():
                when = "'%s' == '%s'" % (_branch_ref(task), step.name)
        return deps, when

    def tasks(self) -> list[dict[str, Any]]:
        out = []
        for s in self.members:
            step = self.plan.steps[s]
            task: dict[str, Any] = {"name": self.task[s]}
            deps, when = self._deps(step)
            if deps:
                joiner = " && " if step.kind == "join" else " || "
                task["depends"] = joiner.join(f"{d}.Succeeded" for d in deps)
            if when:
                task["when"] = when
            args = self._base_args(step)
            if step.recursive:
                task["template"] = self.lay.loops[s]
                args = args + [{"name": ITERATION, "value": "0"}]
            else:
                task["template"] = self.lay.templates[s]
            if args:
                task["arguments"] = {"parameters": args}
            out.append(task)
            if step.is_foreach:
                out.append(self._fan_out(step))
        return out

    def _fan_out(self, step: StepPlan) -> dict[str, Any]:
        split = self.task[step.name]
        item = "{{item}}" if step.depth == 0 else "{{inputs.parameters.%s}},{{item}}" % INDEX_PATH
        return {
            "name": self.body_task[step.name],
            "template": self.lay.bodies[step.name],
            "depends": f"{split}.Succeeded",
            "arguments": {"parameters": [{"name": INDEX_PATH, "value": item}]},
            "withSequence": {"count": "{{tasks.%s.outputs.parameters.%s}}" % (split, NUM_SPLITS)},
        }


def dag_templates(plan: FlowPlan, lay: Layout) -> list[dict[str, Any]]:
    out = [{"name": MAIN, "dag": {"tasks": _DagBuilder(plan, lay, None).tasks()}}]
    for split, name in lay.bodies.items():
        out.append({"name": name, "inputs": {"parameters": [{"name": INDEX_PATH}]},
                    "dag": {"tasks": _DagBuilder(plan, lay, split).tasks()}})
    for s, name in lay.loops.items():
        out.append(loop_template(plan.steps[s], name, lay.templates[s]))
    return out


def loop_template(step: StepPlan, name: str, step_template: str) -> dict[str, Any]:
    """A recursive switch: run at `iteration`; while the branch is the step itself, recurse."""
    base = [{"name": INDEX_PATH, "value": "{{inputs.parameters.%s}}" % INDEX_PATH}] if step.depth > 0 else []
    inputs = ([{"name": INDEX_PATH}] if step.depth > 0 else []) + [{"name": ITERATION}]
    again_when = "'%s' == '%s'" % (_branch_ref("step"), step.name)
    expression = ("tasks.step.outputs.parameters.branch == '%s' ? tasks.again.outputs.parameters.branch"
                  " : tasks.step.outputs.parameters.branch" % step.name)
    return {
        "name": name,
        "inputs": {"parameters": inputs},
        "outputs": {"parameters": [{"name": BRANCH, "valueFrom": {"expression": expression}}]},
        "dag": {"tasks": [
            {"name": "step", "template": step_template,
             "arguments": {"parameters": base + [{"name": ITERATION, "value": "{{inputs.parameters.%s}}" % ITERATION}]}},
            {"name": "again", "template": name, "depends": "step.Succeeded", "when": again_when,
             "arguments": {"parameters": base + [
                 {"name": ITERATION, "value": "{{=asInt(inputs.parameters.%s) + 1}}" % ITERATION}]}},
        ]},
    }


def unsupported(plan: FlowPlan) -> list[tuple[StepPlan, str]]:
    """Shapes this layout cannot express: (step, why)."""
    out = []
    for step in plan.steps.values():
        preds = [p for p in step.in_ if p != step.name]
        switch_preds = [p for p in preds if plan.steps[p].kind == "switch" and step.name in plan.steps[p].cases.values()]
        if switch_preds and len(preds) > 1:
            out.append((step, f"step {step.name!r} is a case of switch {switch_preds[0]!r} and also has "
                              f"other predecessors ({', '.join(sorted(preds))})"))
    return out
