"""Parity at size: a long chain runs on all three engines with identical artifacts.

The suite runs 300 steps (every engine's per-step machinery at a size where anything quadratic
shows); FLOWC_LARGE_STEPS=2000 is the full-size run (about 20 minutes on 2 cores, most of it the
moto Batch round trip per step), run by hand and reported in the note, not in CI."""
from __future__ import annotations

import os

import pytest

from tests.flowshapes import long_linear
from tests.parity.test_parity import assert_identical, three_ways
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

STEPS = int(os.environ.get("FLOWC_LARGE_STEPS", "300"))


def test_long_chain_has_the_same_artifacts_on_every_engine(tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    path = flow_dir / "long_flow.py"
    path.write_text(long_linear(STEPS))
    local, argo, sfn = three_ways(str(path), {}, tmp_path, sfn_moto, monkeypatch)
    assert_identical(local, argo, sfn)
    assert len(local) == STEPS + 2
    assert local["end"]["t"]["artifacts"]["x"] == STEPS
