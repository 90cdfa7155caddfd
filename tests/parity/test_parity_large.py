"""Parity at size: a long chain runs on all three engines with identical artifacts.

The suite runs 300 steps (every engine's per-step machinery at a size where anything quadratic
shows); FLOWC_LARGE_STEPS=2000 is the full-size run (about 20 minutes on 2 cores, most of it the
moto Batch round trip per step), run by hand and reported in the note, not in CI."""
from __future__ import annotations

import os

from tests.flowshapes import long_linear
from tests.parity import engines as E
from tests.parity.test_parity import assert_identical
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

STEPS = int(os.environ.get("FLOWC_LARGE_STEPS", "300"))


def test_long_chain_has_the_same_artifacts_on_every_engine(tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    path = flow_dir / "long_flow.py"
    path.write_text(long_linear(STEPS))
    flow_dir = str(flow_dir)
    local_id, tasks = E.run_local(str(path), {}, tmp_path, monkeypatch)
    E.assert_isolated(tasks, flow_dir, "flowc run")
    local = E.snapshot("LongFlow", local_id, "file://" + str(tmp_path / "local-ds"))
    argo_id, argo_ds, pods = E.run_argo(str(path), {}, tmp_path)
    E.assert_isolated(pods, flow_dir, "argo")
    argo = E.snapshot("LongFlow", argo_id, argo_ds)
    # about a second a step on moto (one Batch job each, polled): the execution may take that long
    sfn_id, sfn_ds, jobs = E.run_sfn(str(path), {}, sfn_moto, monkeypatch, timeout=max(240, 2 * STEPS))
    E.assert_isolated(jobs, flow_dir, "stepfunctions")
    sfn = E.snapshot("LongFlow", sfn_id, sfn_ds)
    assert_identical(local, argo, sfn)
    assert len(local) == STEPS + 2
    assert local["end"]["t"]["artifacts"]["x"] == STEPS
