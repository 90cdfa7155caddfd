"""Metaflow 2.19's switch shapes (tests/flows/valid_own), each run with parameters that pick one
path, and exactly the steps that path runs: every engine must run these and no other step."""
from __future__ import annotations

import os

OWN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows", "valid_own")

# (flow file, parameters, the steps that run)
CASES: list[tuple[str, dict[str, str], set[str]]] = [
    # a switch inside one branch of a static split, its cases leading straight to the join
    ("switch_case_to_join.py", {}, {"start", "a", "b", "c", "join", "end"}),
    ("switch_case_to_join.py", {"route": "d"}, {"start", "a", "b", "d", "join", "end"}),
    # a switch in each branch of a split (one of them a skip); the join's inputs in branch order
    ("switch_in_both_branches.py", {}, {"start", "a", "a2", "b", "b1", "b2", "join", "end"}),
    ("switch_in_both_branches.py", {"left": "a1", "right": "b2"}, {"start", "a", "a1", "b", "b2", "join",
                                                                 "end"}),
    # a conditional skip inside a split branch
    ("skip_in_split_branch.py", {}, {"start", "a", "b", "c", "d", "join", "end"}),
    ("skip_in_split_branch.py", {"route": "short"}, {"start", "a", "b", "d", "join", "end"}),
    # conditional skips: a case that another step also leads to
    ("conditional_skip_to_end.py", {}, {"start", "end"}),
    ("conditional_skip_to_end.py", {"route": "work"}, {"start", "work", "end"}),
    ("conditional_skip_chain.py", {}, {"start", "publish", "end"}),
    ("conditional_skip_chain.py", {"route": "work"}, {"start", "work", "work2", "publish", "end"}),
    # a case that is also the target of a foreach join
    ("skip_over_foreach.py", {}, {"start", "fan", "body", "gather", "after", "end"}),
    ("skip_over_foreach.py", {"route": "skip"}, {"start", "after", "end"}),
    # a conditional skip whose target is a foreach
    ("skip_to_foreach.py", {}, {"start", "prep", "fan", "body", "gather", "end"}),
    ("skip_to_foreach.py", {"route": "skip"}, {"start", "fan", "body", "gather", "end"}),
    # switches inside a foreach body (a skip, and cases leading to the foreach join)
    ("switch_skip_in_foreach.py", {}, {"start", "pick", "heavy", "tidy", "classify", "even", "odd",
                                       "gather", "end"}),
    # two switches skipping to the same step
    ("nested_switch_skip.py", {}, {"start", "inner", "extra", "merge", "end"}),
    ("nested_switch_skip.py", {"inner_route": "skip"}, {"start", "inner", "merge", "end"}),
    ("nested_switch_skip.py", {"outer": "skip"}, {"start", "merge", "end"}),
    ("switch_in_branch_in_foreach.py", {}, {"start", "item", "a", "b", "c", "d", "pair", "gather",
                                             "end"}),
    # recursion (kept working), also as one case of a conditional skip
    ("recursive_switch.py", {}, {"start", "loop", "finish", "end"}),
    ("recursive_skip.py", {}, {"start", "loop", "finish", "end"}),
    ("recursive_skip.py", {"route": "skip"}, {"start", "finish", "end"}),
]

IDS = ["%s%s" % (f[:-3], "".join("-%s=%s" % kv for kv in sorted(p.items()))) for f, p, _ in CASES]


def all_steps(flow: str) -> set[str]:
    """Every step of the flow file (the steps not in a case's set must not run)."""
    import ast

    with open(os.path.join(OWN, flow), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
            and any(getattr(d, "id", None) == "step" for d in n.decorator_list)}


def flow_class(flow: str) -> str:
    """The FlowSpec class name of a flow file (its runs are stored under it)."""
    import ast

    with open(os.path.join(OWN, flow), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return next(n.name for n in tree.body if isinstance(n, ast.ClassDef))
