"""The flow graph as Argo DAG templates.

- `main`: the steps outside any foreach.
- one DAG template per foreach (or num_parallel) split: the body, fanned out from the split's task
  with `withSequence.count` = the split's `num-splits` output; each instance gets the index path
  extended by `{{item}}`. Bodies nest to any depth. The join runs in the enclosing DAG after the
  fan-out task.
- switches: each case step has `when` on the switch task's `branch` output; a step where cases
  converge uses `depends` with `||` over `.Succeeded`, so it runs exactly once (the cases that were
  not chosen are Skipped, the steps after them Omitted: docs/enhanced-depends-logic.md).
  A conditional skip's target (a case of a switch that another step also leads to) adds `when`:
  the switch chose it, or that other step Succeeded. A static join after a switch inside one of
  its branches waits for `(c.Succeeded || d.Succeeded)` for that branch (Metaflow 2.19).
- a recursive switch (a case that loops back to the switch itself) is a DAG template that runs up to
  LOOP_UNROLL passes in sequence and then calls itself for the next ones (one level of template
  nesting per LOOP_UNROLL passes: Argo stops at 100 levels); its `branch` output is the first
  branch that is not the step itself (valueFrom.expression).

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


def _led_here(task: str, step: str, is_switch: bool) -> str:
    """A `when` term: predecessor `task` ran and went on to `step`. Another predecessor of the step
    may have been Skipped or Omitted, and on Argo 4.1 a skipped task's `branch` output is an
    absent optional: a simple tag `{{tasks.x.outputs.parameters.branch}}` fails the task
    (util/template/simple_template.go). So a switch's output is read in an expression, only when
    the switch Succeeded (expr's `?:` is lazy); a status is always set (operator.go buildLocalScope)."""
    if not is_switch:
        return "'{{tasks.%s.status}}' == 'Succeeded'" % task
    return ("{{=tasks['%s'].status == 'Succeeded' ? tasks['%s'].outputs.parameters['%s'] == '%s' : false}}"
            % (task, task, BRANCH, step))


# Argo evaluates `depends` with expr-lang after replacing `-` by `_` in it (workflow/controller/dag.go
# evaluateDependsLogic). expr's lexer makes these words operators (parser/lexer/state.go
# `identifier`) and its parser reads the last three as literals (parser/parser.go
# `parseSecondary`), so `contains.Succeeded` does not parse. Task names are internal (the step's
# name travels in `--step`), so a step named like one gets a hashed task name (`contains-1a2b3c`),
# which no quoting in `depends` could do: Argo finds task names in it with a regex
# (workflow/common/ancestry.go taskNameRegex) and has no escape.
EXPR_RESERVED = ("not", "in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if",
                 "else", "true", "false", "nil")

# A recursive switch runs LOOP_UNROLL passes per level of template nesting (pass0..pass9, each
# when the previous chose the step again), then calls itself for the next LOOP_UNROLL. Argo errors
# a workflow whose templates nest 100 deep (controller.go maxAllowedStackDepth, operator.go
# executeTemplate), so one level per pass stopped at about 98 passes; this stops at 970 (ten
# fewer per enclosing foreach body).
LOOP_UNROLL = 10
MAX_STACK_DEPTH = 100


def max_passes(entry_depth: int) -> int:
    """Passes a recursive switch can make when its loop template runs at stack depth `entry_depth`
    (main = 1): level L runs at entry_depth + L and its step pods one deeper, which must stay < 100."""
    levels = MAX_STACK_DEPTH - 1 - entry_depth
    return max(levels, 0) * LOOP_UNROLL


def foreach_depth(plan: FlowPlan, lay: "Layout", step: str) -> int:
    """How many foreach bodies enclose `step`."""
    depth, scope = 0, lay.scope.get(step)
    while scope is not None:
        depth += 1
        scope = lay.scope.get(scope)
    return depth


def branch_ends(plan: FlowPlan, join: StepPlan, split_name: str) -> list[list[str]]:
    """For a static join: its predecessors grouped by the branch of the split they end, in the
    order of the split's `next` (several in one group when a switch inside the branch lets
    different steps end it)."""
    split = plan.steps[split_name]
    preds = [p for p in dict.fromkeys(join.in_) if p != join.name]
    groups: list[list[str]] = []
    placed: set[str] = set()
    for head in dict.fromkeys(split.next):
        group: list[str] = []
        seen: set[str] = set()
        todo = [head]
        while todo:
            s = todo.pop()
            if s in seen or s not in plan.steps or s == join.name:
                continue
            seen.add(s)
            if s in preds and s not in placed:
                group.append(s)
                placed.add(s)
            todo.extend(plan.steps[s].next)
        groups.append(sorted(group, key=preds.index))
    return groups


class _DagBuilder:
    def __init__(self, plan: FlowPlan, lay: Layout, scope: str | None):
        self.plan, self.lay, self.scope = plan, lay, scope
        self.members = [s for s in plan.steps if lay.scope.get(s) == scope]
        ns = Namespace(reserved=EXPR_RESERVED)
        self.task = {s: ns.add(s) for s in self.members}
        self.body_task = {s: ns.add(s + "-body", key="body:" + s)
                          for s in self.members if plan.steps[s].is_foreach}

    def _base_args(self, step: StepPlan) -> list[dict[str, str]]:
        return [{"name": INDEX_PATH, "value": "{{inputs.parameters.%s}}" % INDEX_PATH}] if step.depth > 0 else []

    def _pred_task(self, step: StepPlan, pred: str) -> str | None:
        """The task in this DAG that stands for `pred` (a foreach join waits for the fan-out), or
        None when `pred` is outside (the first step of a body: its split is the caller)."""
        if self.lay.scope.get(pred) == self.scope:
            return self.task[pred]
        if step.closes_foreach and step.join_of in self.body_task:
            return self.body_task[step.join_of]
        return None

    def _depends(self, step: StepPlan) -> tuple[str | None, str | None]:
        """The task's `depends` and `when`, as Metaflow 2.19 runs a step:
        - a static join waits for one input per branch of its split: `&&` over the branches, `||`
          over the steps that can end a branch (a switch inside the branch: only one of them runs);
        - any other step runs once when one predecessor led to it: `||` over them, and when a
          switch is among them, `when` says which: a switch led here if it chose this step, any
          other predecessor if it Succeeded (a conditional skip: both the switch and a step after
          its other case can be done, and only the latter leads here)."""
        preds = [p for p in dict.fromkeys(step.in_) if p != step.name]
        if step.kind == "join" and not step.closes_foreach and step.join_of is not None \
                and step.join_of in self.plan.steps:
            ends = sorted((g for g in branch_ends(self.plan, step, step.join_of) if g),
                          key=lambda g: preds.index(g[0]))
            groups = [[self.task[p] for p in g if self.lay.scope.get(p) == self.scope] for g in ends]
            parts = [" || ".join(f"{t}.Succeeded" for t in g) for g in groups if g]
            return " && ".join(f"({x})" if " || " in x and len(parts) > 1 else x for x in parts) or None, None
        tasks: list[str] = []
        switches: list[str] = []
        for pred in preds:
            task = self._pred_task(step, pred)
            if task is None or task in tasks:
                continue
            tasks.append(task)
            p = self.plan.steps[pred]
            if p.kind == "switch" and step.name in p.cases.values():
                switches.append(task)
        depends = " || ".join(f"{t}.Succeeded" for t in tasks) or None
        if not switches:
            return depends, None
        if len(tasks) == 1:          # a case with the switch as its only predecessor
            return depends, "'%s' == '%s'" % (_branch_ref(tasks[0]), step.name)
        return depends, " || ".join("(%s)" % _led_here(t, step.name, t in switches) for t in tasks)

    def tasks(self) -> list[dict[str, Any]]:
        out = []
        for s in self.members:
            step = self.plan.steps[s]
            task: dict[str, Any] = {"name": self.task[s]}
            depends, when = self._depends(step)
            if depends:
                task["depends"] = depends
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
    """A recursive switch: passes `iteration` .. `iteration`+LOOP_UNROLL-1 in one DAG, each when the
    one before chose the step itself; then the template calls itself at `iteration`+LOOP_UNROLL.
    Its `branch` output is the first branch that is not the step (valueFrom.expression)."""
    base = [{"name": INDEX_PATH, "value": "{{inputs.parameters.%s}}" % INDEX_PATH}] if step.depth > 0 else []
    inputs = ([{"name": INDEX_PATH}] if step.depth > 0 else []) + [{"name": ITERATION}]
    tasks: list[dict[str, Any]] = []
    for j in range(LOOP_UNROLL + 1):
        again = j == LOOP_UNROLL
        task: dict[str, Any] = {"name": "again" if again else "pass%d" % j, "template": name if again else step_template}
        if j:
            task["depends"] = "pass%d.Succeeded" % (j - 1)
            task["when"] = "'%s' == '%s'" % (_branch_ref("pass%d" % (j - 1)), step.name)
        iteration = "{{inputs.parameters.%s}}" % ITERATION if j == 0 else \
            "{{=asInt(inputs.parameters.%s) + %d}}" % (ITERATION, j)
        task["arguments"] = {"parameters": base + [{"name": ITERATION, "value": iteration}]}
        tasks.append(task)
    expression = "tasks.again.outputs.parameters.branch"
    for j in reversed(range(LOOP_UNROLL)):
        ref = "tasks.pass%d.outputs.parameters.branch" % j
        expression = "%s != '%s' ? %s : (%s)" % (ref, step.name, ref, expression)
    return {
        "name": name,
        "inputs": {"parameters": inputs},
        "outputs": {"parameters": [{"name": BRANCH, "valueFrom": {"expression": expression}}]},
        "dag": {"tasks": tasks},
    }
