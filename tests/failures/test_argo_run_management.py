"""Deployed run management on Argo, with the real kubernetes client against the API server
stand-in (tests/k8s_double.py): `trigger --tag`, `resume --target argo` (the Workflow is created
suspended, its run options written to the datastore, then it is let go), `runs`, `suspend` /
`unsuspend`, `terminate`, and `status` of an unknown run."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runtime_shim.datastore import FlowDatastore
from tests.failures.flows import write
from tests.k8s_double import KubeDouble, node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def kube(tmp_path):
    double = KubeDouble().start()
    double.nodes = [node("worker-1", cpu="16", memory="64Gi")]
    config = double.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="ml")
    yield double, config
    double.stop()


def flowc(tmp_path, config, *args):
    env = dict(os.environ, KUBECONFIG=config, FLOWC_DATASTORE="file://" + str(tmp_path / "ds"), PYTHONPATH=ROOT)
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path), timeout=300)


def _workflow(double, run_id):
    [w] = [w for w in double.of_kind("workflows") if run_id.startswith(w["metadata"]["name"] + "-")]
    return w


def test_argo_trigger_resume_runs_suspend_terminate(kube, tmp_path):
    double, config = kube
    flow = write(tmp_path / "flow.py", "ManagedFlow")
    assert flowc(tmp_path, config, "deploy", flow, "--target", "argo").returncode == 0
    double.requests.clear()
    tagged = flowc(tmp_path, config, "trigger", flow, "--target", "argo", "--tag", "nightly")
    assert tagged.returncode == 0, tagged.stderr
    run_id = tagged.stdout.strip()
    creates = [body for method, path, body in double.requests if method == "POST" and path.endswith("/workflows")]
    assert [c["spec"]["suspend"] for c in creates] == [True]       # no pod before the options exist
    assert _workflow(double, run_id)["spec"]["suspend"] is False     # then let go
    store = FlowDatastore("file://" + str(tmp_path / "ds"), "ManagedFlow")
    assert store.read_run_options(run_id) == {"tags": ["nightly"]}

    # an origin run in the datastore (a local run with the same datastore), then resume it on Argo
    failed = flowc(tmp_path, config, "run", flow, "--run-id", "origin1")
    assert failed.returncode == 1
    resumed = flowc(tmp_path, config, "resume", flow, "origin1", "--target", "argo")
    assert resumed.returncode == 0, resumed.stderr
    new_id = resumed.stdout.strip()
    assert store.read_run_options(new_id) == {"origin_run_id": "origin1", "rerun": ["body"], "tags": []}
    assert _workflow(double, new_id)["spec"]["suspend"] is False

    # the controller would fill status: play its part, then list
    _workflow(double, run_id)["status"] = {"phase": "Failed", "startedAt": "2026-01-01T10:00:00Z",
                                           "finishedAt": "2026-01-01T10:02:05Z"}
    _workflow(double, new_id)["status"] = {"phase": "Running", "startedAt": "2026-01-01T11:00:00Z"}
    listed = flowc(tmp_path, config, "runs", flow, "--target", "argo")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert [r[:2] for r in rows] == [[new_id, "Running"], [run_id, "Failed"]]
    assert rows[1][2:] == ["2026-01-01", "10:00:00", "2m05s"]

    assert flowc(tmp_path, config, "suspend", flow, new_id, "--target", "argo").returncode == 0
    assert _workflow(double, new_id)["spec"]["suspend"] is True
    assert flowc(tmp_path, config, "unsuspend", flow, new_id, "--target", "argo").returncode == 0
    assert _workflow(double, new_id)["spec"]["suspend"] is False
    stopped = flowc(tmp_path, config, "terminate", flow, new_id, "--target", "argo")
    assert stopped.returncode == 0, stopped.stderr
    assert _workflow(double, new_id)["spec"]["shutdown"] == "Stop"

    for command in (["status", flow, "nope-123", "--target", "argo"],
                    ["terminate", flow, "nope-123", "--target", "argo"],
                    ["suspend", flow, "nope-123", "--target", "argo"]):
        missing = flowc(tmp_path, config, *command)
        assert missing.returncode == 1 and "no run nope-123" in missing.stderr, missing.stderr
        assert "Traceback" not in missing.stderr
    sfn = flowc(tmp_path, config, "suspend", flow, new_id, "--target", "stepfunctions")
    assert sfn.returncode == 2 and "Argo" in sfn.stderr
