"""Transitions: unknown targets, loops, unreachable steps, start/end degree."""
from __future__ import annotations

import difflib


def unknown_targets(ctx):
    steps = ctx.model.steps
    for name, step in steps.items():
        t = step.transition
        if t is None or name == ctx.facts.end:
            continue
        extra = ctx.parsed.steps.get(name)
        for target in dict.fromkeys(t.targets):
            if target in steps:
                continue
            span = (extra.target_spans.get(target) if extra else None) or t.span
            msg = f"`self.{target}` is not a step of the flow"
            if target in ctx.parsed.non_step_methods:
                msg += f" (method `{target}` has no @step decorator)"
            else:
                close = difflib.get_close_matches(target, list(steps), n=1, cutoff=0.6)
                if close:
                    msg += f"; did you mean `self.{close[0]}`?"
            ctx.report("FC109", msg, span)


def cycles(ctx):
    steps = ctx.model.steps
    for src, dst, path in ctx.facts.back_edges:
        t = steps[src].transition
        extra = ctx.parsed.steps.get(src)
        span = (extra.target_spans.get(dst) if extra else None) or (t.span if t else steps[src].span)
        ctx.report("FC110", f"the transition from `{src}` back to `{dst}` makes a loop "
                   f"({' -> '.join(path)}); only a switch may transition back to itself", span)


def unreachable(ctx):
    f = ctx.facts
    if f.start is None or f.back_edges:
        return
    steps = ctx.model.steps
    for name, step in steps.items():
        if name != f.end and (step.transition is None or
                              any(t not in steps for t in step.transition.targets)):
            return      # a broken transition upstream: unreachable steps would only be noise
    for name, step in steps.items():
        if name not in f.reachable:
            ctx.report("FC111", f"step `{name}` can never run: no path from `{f.start}` leads to it",
                       step.span)


def start_incoming(ctx):
    f = ctx.facts
    if f.start is None or f.start not in ctx.graph.nodes:
        return
    node = ctx.graph.nodes[f.start]
    for p in node.in_:
        if p == f.start and node.kind == "switch":
            continue
        t = ctx.model.steps[p].transition
        ctx.report("FC105", f"step `{p}` transitions into the start step `{f.start}`; the start step "
                   "has no predecessors", t.span if t else ctx.model.steps[p].span)


RULES = [unknown_targets, cycles, unreachable, start_incoming]
