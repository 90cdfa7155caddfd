"""@trigger flows under `flowc run`: --event-payload fills the mapped parameters; an on-finish child
runs on its upstream's completion event, which must name a run that finished."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runtime_shim.client import Run

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "tests" / "flows" / "triggers"


def flowc(args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, text=True,
                          env=dict(env, PYTHONPATH=str(ROOT)), cwd=cwd, timeout=240)


def _run(tmp_path, flow, *args):
    datastore = "file://%s/ds" % tmp_path
    done = flowc(["run", str(FLOWS / flow), "--datastore", datastore, *args], tmp_path)
    return done, datastore


def test_event_payload_fills_the_mapped_parameters(tmp_path):
    done, datastore = _run(tmp_path, "event_flow.py", "--event-payload",
                           json.dumps({"table_name": "sales", "row_limit": 5, "unmapped": "x"}), "--run-id", "ev-1")
    assert done.returncode == 0, done.stderr
    assert Run("EventFlow/ev-1", datastore=datastore).data.seen == {"table": "sales", "limit": 5, "note": "untouched"}


def test_explicit_param_wins_over_the_payload(tmp_path):
    done, datastore = _run(tmp_path, "event_flow.py", "--event-payload", json.dumps({"table_name": "sales"}),
                           "--param", "table=mine", "--run-id", "ev-2")
    assert done.returncode == 0, done.stderr
    assert Run("EventFlow/ev-2", datastore=datastore).data.seen == {"table": "mine", "limit": 10, "note": "untouched"}


def test_two_events_in_one_payload(tmp_path):
    payload = {"features.ready": {"path": "f"}, "labels.ready": {"path_labels": "l"}}
    done, datastore = _run(tmp_path, "both_events_flow.py", "--event-payload", json.dumps(payload), "--run-id", "b-1")
    assert done.returncode == 0, done.stderr
    assert Run("BothEventsFlow/b-1", datastore=datastore).data.pair == ("f", "l")


def test_mapping_error_stops_the_run_with_a_position(tmp_path):
    done, _ = _run(tmp_path, "bad_mapping_flow.py", "--event-payload", "{}")
    assert done.returncode == 1
    assert "bad_mapping_flow.py:4:54: FC241" in done.stderr and "Traceback" not in done.stderr


def test_bad_payload_is_a_usage_error(tmp_path):
    done, _ = _run(tmp_path, "event_flow.py", "--event-payload", "[1]")
    assert done.returncode == 2 and "JSON object" in done.stderr


def test_chain_data_then_train(tmp_path):
    done, datastore = _run(tmp_path, "data_flow.py", "--run-id", "data-1")
    assert done.returncode == 0, done.stderr
    finished = json.dumps({"flow_name": "DataFlow", "run_id": "data-1"})
    done, _ = _run(tmp_path, "train_flow.py", "--event-payload", finished, "--run-id", "train-1")
    assert done.returncode == 0, done.stderr
    assert Run("TrainFlow/train-1", datastore=datastore).data.model == "trained for 2 epochs"
    # a run that does not exist, or of another flow, starts nothing
    for payload, words in (({"flow_name": "DataFlow", "run_id": "nope"}, "DataFlow/nope"),
                           ({"flow_name": "OtherFlow", "run_id": "data-1"}, "not OtherFlow")):
        refused, _ = _run(tmp_path, "train_flow.py", "--event-payload", json.dumps(payload))
        assert refused.returncode == 2 and words in refused.stderr, refused.stderr
