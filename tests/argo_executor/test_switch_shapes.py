"""Metaflow 2.19's switch shapes on the Argo executor: each run takes the path its parameters
pick, runs exactly its steps (one pod each, or one per foreach item), and passes its `end`
asserts. Before, a join after a switch in a split branch was Omitted and the workflow
"Succeeded" without running `end`; a conditional skip was refused (FC305)."""
from __future__ import annotations

import os

import pytest

from tests.switch_shapes import CASES, IDS, OWN, all_steps

from .executor import SUCCEEDED
from .harness import run_flow


@pytest.mark.parametrize("flow,params,ran", CASES, ids=IDS)
def test_switch_shape_takes_its_path(tmp_path, flow, params, ran):
    ex, root, lines = run_flow(os.path.join(OWN, flow), tmp_path, params or None)
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-40:])
    steps = {p["argv"][p["argv"].index("--step") + 1] for p in ex.pods}
    assert steps == ran, (sorted(steps), sorted(ran))
    assert not (all_steps(flow) - ran) & steps
    assert [p["exit"] for p in ex.pods] == [0] * len(ex.pods), [(p["argv"], p["exit"]) for p in ex.pods]
