"""Steps themselves: names, start/end, arguments, the tail self.next."""
from __future__ import annotations

import re

RESERVED_STEP_NAMES = {"name", "next", "input", "index", "cmd", "foreach_stack", "merge_artifacts",
                       "script_name"}
_NAME_RE = re.compile(r"^[a-z0-9_]+$")


def reserved_names(ctx):
    for name, step in ctx.model.steps.items():
        if name in RESERVED_STEP_NAMES:
            ctx.report("FC101", f"`{name}` is a reserved name and cannot be a step "
                       f"(self.{name} is part of every flow); rename the step", step.span)


def step_names(ctx):
    for name, step in ctx.model.steps.items():
        if not _NAME_RE.match(name) or name.startswith("_"):
            ctx.report("FC121", f"step name `{name}` is invalid: use lowercase ascii letters, digits "
                       "and underscores, not starting with an underscore", step.span)


def start_end(ctx):
    f = ctx.facts
    _one_marked(ctx, "start", f.start_candidates, f.start, "FC102")
    _one_marked(ctx, "end", f.end_candidates, f.end, "FC103")


def _one_marked(ctx, role, candidates, chosen, missing_code):
    """Exactly one `role` step: named `role`, or marked @step(role=True) with no step named `role`."""
    m = ctx.model
    if len(candidates) > 1:
        for n in candidates[1:]:
            ctx.report("FC104", f"several steps are marked @step({role}=True): " + ", ".join(candidates),
                       m.steps[n].span)
    elif chosen is None:
        ctx.report(missing_code, f"flow `{m.class_name}` has no {role} step: name a step `{role}` or "
                   f"mark one with @step({role}=True)", m.span)
    elif chosen != role and role in m.steps:
        ctx.report("FC104", f"step `{chosen}` is marked @step({role}=True) but a step named `{role}` "
                   "also exists", m.steps[role].span)


def tails(ctx):
    end = ctx.facts.end
    for name, step in ctx.model.steps.items():
        extra = ctx.parsed.steps.get(name)
        if extra is None:
            continue
        if name == end:
            if extra.tail_is_next and step.transition is not None:
                ctx.report("FC105", f"the end step `{name}` must not call self.next(): the run "
                           "finishes here", step.transition.span)
            for span in extra.nested_next:
                ctx.report("FC105", f"the end step `{name}` must not call self.next()", span)
            continue
        if extra.nested_next:
            for span in extra.nested_next:
                ctx.report("FC106", f"self.next() must be the last statement of step `{name}`, not "
                           "inside an if, loop, try or nested function; use a switch "
                           "(self.next({...}, condition=...)) for a run-time choice", span)
        elif not extra.tail_is_next:
            ctx.report("FC106", f"step `{name}` does not end with self.next(...): every step except "
                       "the end step must name its successor in its last statement", step.span)


def num_args(ctx):
    f = ctx.facts
    for name, step in ctx.model.steps.items():
        if step.num_args == 0:
            ctx.report("FC107", f"step `{name}` is missing the `self` argument", step.span)
        elif step.num_args > 2:
            ctx.report("FC107", f"step `{name}` takes {step.num_args} arguments; a step takes `self`, "
                       "a join `self, inputs`", step.span)
        elif step.num_args == 2 and name in (f.start,):
            ctx.report("FC107", f"the start step `{name}` cannot take an `inputs` argument", step.span)


def duplicates(ctx):
    for name, first, second in ctx.parsed.duplicate_steps:
        ctx.report("FC122", f"step `{name}` is defined twice; this definition replaces the one at "
                   f"line {first.line}", second, notes=(f"first defined at line {first.line}",))


def non_steps(ctx):
    for name, span in ctx.parsed.non_step_methods.items():
        if name in ctx.model.steps:
            continue
        ctx.report("FC212", f"method `{name}` calls self.next() but has no @step decorator", span)


RULES = [reserved_names, step_names, start_end, tails, num_args, duplicates, non_steps]
