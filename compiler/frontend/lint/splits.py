"""Splits and joins: balance, fan-in, scopes, foreach/switch/parallel rules."""
from __future__ import annotations

from compiler.decorators import PARALLEL_FRAMEWORKS


def _has_parallel(step):
    return any(d.name == "parallel" or d.name in PARALLEL_FRAMEWORKS for d in step.decorators)


def balance(ctx):
    f, g, m = ctx.facts, ctx.graph, ctx.model
    if f.back_edges or f.start is None:
        return
    nodes = g.nodes
    for u in nodes:
        if u not in f.reachable:
            continue
        node = nodes[u]
        preds = [p for p in node.in_ if p in f.reachable and (p, u) in f.edge_state]
        states = [f.edge_state[(p, u)] for p in preds]
        step = m.steps[u]
        if node.kind == "join":
            if not states or all(not s for s in states):
                ctx.report("FC114", f"step `{u}` takes `inputs` like a join but is not preceded by a "
                           "split; remove the `inputs` argument or add a split", step.span)
                continue
            scopes = {(s[:-1], s[-1][0]) if s else ((), None) for s in states}
            if len(scopes) > 1:
                desc = ", ".join(f"{p} from `{s[-1][0]}`" if s else f"{p} from outside any split"
                                 for p, s in zip(preds, states))
                ctx.report("FC115", f"`{u}` joins steps from different splits ({desc}); each split "
                           "needs its own join", step.span)
                continue
            split = states[0][-1][0]
            expected = list(dict.fromkeys(nodes[split].out)) if split in nodes else []
            got = {s[-1][1] for s in states}
            if got != set(expected):
                missing = [b for b in expected if b not in got]
                ctx.report("FC114", f"join `{u}` closes split `{split}` but receives {len(got)} of its "
                           f"{len(expected)} branches (missing: {', '.join(missing) or '-'})", step.span)
        elif len(set(states)) > 1:
            tops = {s[-1][0] if s else None for s in states}
            if len(tops) == 1 and None not in tops and len({s[:-1] for s in states}) == 1:
                split = next(iter(tops))
                if step.num_args > 1:
                    ctx.report("FC113", f"step `{u}` takes `inputs` but its transition is a "
                               f"{node.kind}: a step cannot both join and split; join in `{u}` "
                               "and split in a following step", step.span)
                    continue
                ctx.report("FC113", f"step `{u}` receives {len(preds)} branches of split `{split}` but "
                           f"takes no `inputs` argument; write `def {u}(self, inputs)`", step.span)
            else:
                ctx.report("FC115", f"step `{u}` is reached from different split scopes "
                           f"({', '.join(preds)})", step.span)
    # end reached with open splits
    if f.end in nodes and f.end in f.reachable:
        preds = [p for p in nodes[f.end].in_ if (p, f.end) in f.edge_state]
        reported = set()
        for p in preds:
            for split, _branch in reversed(f.edge_state[(p, f.end)]):
                if split in reported:
                    continue
                reported.add(split)
                t = m.steps[split].transition
                what = {"foreach": "foreach", "parallel": "num_parallel split"}.get(nodes[split].kind, "split")
                ctx.report("FC112", f"the {what} opened by `{split}` is never joined before "
                           f"`{f.end}` (line {m.steps[f.end].span.line}); add a join step "
                           "(def join(self, inputs))", t.span if t else m.steps[split].span)


def empty_foreach(ctx):
    nodes = ctx.graph.nodes
    for u, node in nodes.items():
        if node.kind in ("foreach", "parallel"):
            for v in node.out:
                if nodes[v].kind == "join":
                    ctx.report("FC116", f"foreach `{u}` is followed directly by the join `{v}`; add "
                               "a step between them", ctx.model.steps[u].transition.span)


def switch_to_join(ctx):
    nodes = ctx.graph.nodes
    for u, node in nodes.items():
        if node.kind == "switch":
            for v in dict.fromkeys(node.out):
                if nodes[v].kind == "join":
                    ctx.report("FC119", f"a case of switch `{u}` leads directly to join `{v}`; add an "
                               "unconditional step on that path", ctx.model.steps[u].transition.span)


def parallel(ctx):
    nodes, steps = ctx.graph.nodes, ctx.model.steps
    for u, node in nodes.items():
        if node.kind == "parallel":
            for v in node.out:
                if not _has_parallel(steps[v]):
                    ctx.report("FC120", f"`{u}` starts `{v}` with num_parallel= but `{v}` has no "
                               "@parallel decorator", steps[u].transition.span)
        if _has_parallel(steps[u]):
            for p in node.in_:
                if nodes[p].kind != "parallel":
                    ctx.report("FC120", f"@parallel step `{u}` is reached from `{p}` without "
                               "self.next(..., num_parallel=N)", steps[u].span)
            for v in node.out:
                if nodes[v].kind != "join":
                    ctx.report("FC120", f"@parallel step `{u}` must be followed by a join step; "
                               f"`{v}` takes no `inputs`", steps[u].span)


RULES = [balance, empty_foreach, switch_to_join, parallel]
