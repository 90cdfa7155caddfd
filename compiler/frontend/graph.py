"""FlowModel -> FlowGraph: node kinds, split/join scopes, foreach depth, topological order.

Linear in the size of the flow; never raises on broken graphs (lint reports them).

Conventions (as in Metaflow's graph):
- `split_parents` lists the open splits enclosing a step, outermost first. A join's list still
  includes the split it closes (its last element, == join_of); a split's list excludes itself.
- `foreach_depth` counts the enclosing foreach/parallel splits; a join has the depth of its split.
- A switch does not open a scope: its cases converge on an ordinary step.
- A switch with itself among its cases is `recursive`; that self edge is the only loop allowed and
  is left out of the topological order.
"""
from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from compiler.frontend.model import FlowGraph, FlowModel, GraphNode

SPLIT_KINDS = ("split", "foreach", "parallel")


@dataclass
class GraphFacts:
    """What lint needs beyond the FlowGraph."""

    start: str | None
    end: str | None
    start_candidates: list[str] = field(default_factory=list)
    end_candidates: list[str] = field(default_factory=list)
    reachable: set[str] = field(default_factory=set)
    back_edges: list[tuple[str, str, list[str]]] = field(default_factory=list)   # (from, to, cycle path)
    state: dict[str, tuple] = field(default_factory=dict)          # node -> ((split, branch), ...)
    edge_state: dict[tuple[str, str], tuple] = field(default_factory=dict)


def find_start_end(model: FlowModel):
    starts = [n for n, s in model.steps.items() if s.is_start]
    ends = [n for n, s in model.steps.items() if s.is_end]

    def pick(marked, fallback):
        if len(marked) == 1:
            return marked[0]
        if not marked:
            return fallback if fallback in model.steps else None
        return None

    start = pick(starts, "start")
    end = pick(ends, "end")
    if start is None and end is None and len(model.steps) == 1:
        start = end = next(iter(model.steps))
    return start, end, starts, ends


def node_kind(model: FlowModel, name: str, start: str | None, end: str | None) -> str:
    step = model.steps[name]
    t = step.transition
    if name == end:
        return "end"
    if t is not None and t.kind in ("split", "foreach", "parallel", "switch"):
        return t.kind
    if name == start:
        return "start"
    if step.num_args > 1:
        return "join"
    return "linear"


def build(model: FlowModel) -> tuple[FlowGraph, GraphFacts]:
    """The graph in phases: nodes, edges, reachability, cycles, order, scopes, foreach depth."""
    start, end, starts, ends = find_start_end(model)
    facts = GraphFacts(start=start, end=end, start_candidates=starts, end_candidates=ends)
    nodes = make_nodes(model, start, end)
    link_predecessors(nodes)

    def succ(n: str) -> list[str]:   # edges that matter for order and scopes (recursive self edge excluded)
        return [o for o in nodes[n].out if not (o == n and nodes[n].kind == "switch")]

    if start is not None:
        facts.reachable = reachable_from(start, succ)
    facts.back_edges = back_edges(list(nodes), start, succ)
    back = {(a, b) for a, b, _ in facts.back_edges}
    topo = topological_order(list(nodes), start, end, succ, back)
    facts.state, facts.edge_state = open_scopes(nodes, topo, back)
    set_scope_fields(nodes, topo, facts.state)
    graph = FlowGraph(flow=model, nodes={n: nodes[n] for n in topo}, start=start or "", end=end or "")
    return graph, facts


Succ = Callable[[str], list[str]]


def make_nodes(model: FlowModel, start: str | None, end: str | None) -> dict[str, GraphNode]:
    """One node per step, in source order, with its kind and out-edges to existing steps."""
    nodes: dict[str, GraphNode] = {}
    for n, step in model.steps.items():
        t = step.transition
        out = [x for x in (t.targets if t is not None and n != end else []) if x in model.steps]
        node = GraphNode(name=n, kind=node_kind(model, n, start, end), out=out, in_=[], step=step)
        if t is not None:
            node.foreach_var = t.foreach
            node.num_parallel = t.num_parallel
            node.condition = t.condition
            node.cases = dict(t.cases)
            node.recursive = t.kind == "switch" and n in t.targets
        nodes[n] = node
    return nodes


def link_predecessors(nodes: dict[str, GraphNode]) -> None:
    preds: dict[str, set[str]] = {n: set() for n in nodes}
    for n, node in nodes.items():
        for o in node.out:
            preds[o].add(n)
    for n, node in nodes.items():
        node.in_ = sorted(preds[n])


def reachable_from(start: str, succ: Succ) -> set[str]:
    seen = {start}
    dq = deque([start])
    while dq:
        u = dq.popleft()
        for v in succ(u):
            if v not in seen:
                seen.add(v)
                dq.append(v)
    return seen


def back_edges(names: list[str], start: str | None, succ: Succ) -> list[tuple[str, str, list[str]]]:
    """Edges that close a cycle, with the cycle: iterative DFS from start, then every other node in
    source order."""
    found: list[tuple[str, str, list[str]]] = []
    color: dict[str, int] = {}
    roots = ([start] if start is not None else []) + names
    for root in roots:
        if color.get(root):
            continue
        stack = [(root, iter(succ(root)))]
        path = [root]
        color[root] = 1
        while stack:
            u, it = stack[-1]
            advanced = False
            for v in it:
                c = color.get(v, 0)
                if c == 0:
                    color[v] = 1
                    path.append(v)
                    stack.append((v, iter(succ(v))))
                    advanced = True
                    break
                if c == 1:
                    found.append((u, v, path[path.index(v):] + [v]))
            if not advanced:
                color[u] = 2
                stack.pop()
                path.pop()
    return found


def topological_order(names: list[str], start: str | None, end: str | None, succ: Succ,
                      back: set[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm, ties broken by source order; start first, end last, back edges ignored."""
    order_index = {n: i for i, n in enumerate(names)}
    indeg = {n: 0 for n in names}
    for n in names:
        for v in succ(n):
            if (n, v) not in back:
                indeg[v] += 1
    heap = []
    if start is not None and indeg[start] == 0:
        heap.append((-1, start))
    for n in names:
        if indeg[n] == 0 and n != start:
            heap.append((order_index[n], n))
    heapq.heapify(heap)
    topo: list[str] = []
    placed = set()
    while heap:
        _, u = heapq.heappop(heap)
        if u in placed:
            continue
        placed.add(u)
        topo.append(u)
        for v in succ(u):
            if (u, v) in back:
                continue
            indeg[v] -= 1
            if indeg[v] == 0:
                heapq.heappush(heap, (order_index[v], v))
    topo.extend(n for n in names if n not in placed)
    if end is not None and end in topo:
        topo.remove(end)
        topo.append(end)
    if start is not None and start in topo:
        topo.remove(start)
        topo.insert(0, start)
    return topo


def open_scopes(nodes: dict[str, GraphNode], topo: list[str], back: set[tuple[str, str]]
                ) -> tuple[dict[str, tuple], dict[tuple[str, str], tuple]]:
    """The open splits at each node and edge, as ((split, branch), ...); a join closes the innermost
    and becomes its split's matching join."""
    state: dict[str, tuple] = {}
    edge_state: dict[tuple[str, str], tuple] = {}
    for u in topo:
        node = nodes[u]
        s = state.setdefault(u, ())
        if node.kind == "join":
            out_state = s[:-1] if s else ()
            if s:
                split = s[-1][0]
                node.join_of = split
                if split in nodes and nodes[split].matching_join is None:
                    nodes[split].matching_join = u
        else:
            out_state = s
        for v in node.out:
            if v == u and node.kind == "switch":
                continue
            es = out_state + ((u, v),) if node.kind in SPLIT_KINDS else out_state
            edge_state[(u, v)] = es
            if v not in state and (u, v) not in back:
                state[v] = es
    return state, edge_state


def set_scope_fields(nodes: dict[str, GraphNode], topo: list[str], state: dict[str, tuple]) -> None:
    for u in topo:
        node = nodes[u]
        s = state.get(u, ())
        node.split_parents = [x for x, _ in s]
        inner = s[:-1] if node.kind == "join" and s else s
        node.foreach_depth = sum(1 for x, _ in inner if x in nodes and nodes[x].kind in ("foreach", "parallel"))


def build_graph(model: FlowModel) -> FlowGraph:
    return build(model)[0]
