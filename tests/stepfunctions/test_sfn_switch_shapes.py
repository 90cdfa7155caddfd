"""Metaflow 2.19's switch shapes on Step Functions (moto): each run takes the path its parameters
pick, runs exactly its steps, and passes its `end` asserts."""
from __future__ import annotations

import pytest

from tests.stepfunctions.test_sfn_execution import _deploy, _execute
from tests.switch_shapes import CASES, IDS, all_steps


def _step_of(job) -> str:
    argv = job["argv"]
    return argv[argv.index("--step") + 1]


@pytest.mark.parametrize("flow,params,ran", CASES, ids=IDS)
def test_switch_shape_takes_its_path(sfn_moto, flow, params, ran):
    _, arn = _deploy(sfn_moto, "valid_own/" + flow)
    _, jobs = _execute(sfn_moto, arn, params)
    assert all(j["exit_code"] == 0 for j in jobs), [(j["name"], j["exit_code"]) for j in jobs]
    steps = {_step_of(j) for j in jobs}
    assert steps == ran, (sorted(steps), sorted(ran))
    assert not (all_steps(flow) - ran) & steps
