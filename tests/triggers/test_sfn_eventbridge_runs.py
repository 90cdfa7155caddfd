"""@trigger / @trigger_on_finish on Step Functions, proven by firing events: `flowc deploy` creates
the EventBridge rules on a moto server, `flowc trigger --event` puts an event, and the rule starts
the state machine with the mapped input; a finished upstream execution starts its
@trigger_on_finish child. moto lacks the EventBridge -> Step Functions delivery and the status change
events: tests/triggers/eventbridge_relay.py adds only those (moto's own pattern matcher decides)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from runtime_shim.client import Run
from tests.hybrid_fixtures import aws, aws_env, managed_queue  # noqa: F401  (fixtures)
from tests.triggers.eventbridge_relay import Relay, StatusChanges

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "tests" / "flows" / "triggers"
ROLE = "arn:aws:iam::123456789012:role/flowc-sfn"
EVENTS_ROLE = "arn:aws:iam::123456789012:role/flowc-events"


def flowc(args, env_extra):
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ, **env_extra), cwd=ROOT, timeout=240)


@pytest.fixture
def env(aws, aws_env):  # noqa: F811
    queue = managed_queue(aws, "trigger-queue", ["m5.4xlarge"])
    return {"FLOWC_DATASTORE": aws_env, "FLOWC_SFN_ROLE_ARN": ROLE, "FLOWC_BATCH_QUEUE": queue,
            "FLOWC_BATCH_JOB_ROLE_ARN": "arn:aws:iam::123456789012:role/flowc-task",
            "FLOWC_EVENTBRIDGE_ROLE_ARN": EVENTS_ROLE, "FLOWC_S3_ENDPOINT": aws.endpoint}


@pytest.fixture
def relay(aws):  # noqa: F811
    r = Relay(aws.endpoint)
    original = r.install()
    try:
        yield r
    finally:
        Relay.uninstall(original)


def _copy(tmp_path, name, renames):
    text = (FLOWS / name).read_text()
    for old, new in renames.items():
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _wait(sfn, arn, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        desc = sfn.describe_execution(executionArn=arn)
        if desc["status"] != "RUNNING":
            return desc
        time.sleep(0.2)
    raise TimeoutError(arn)


def _machine(aws, name):  # noqa: F811
    return next(m["stateMachineArn"] for m in aws.client("stepfunctions").list_state_machines()["stateMachines"]
                if m["name"] == name)


def test_event_starts_the_state_machine_with_the_mapped_input(aws, env, relay, tmp_path):  # noqa: F811
    flow_class = "EventFlow" + uuid.uuid4().hex[:6]
    path = _copy(tmp_path, "event_flow.py", {"EventFlow": flow_class})
    deployed = flowc(["deploy", path, "--target", "stepfunctions"], env)
    assert deployed.returncode == 0, deployed.stderr
    events = aws.client("events")
    rules = events.list_rules(NamePrefix=flow_class + "-")["Rules"]
    assert len(rules) == 1
    targets = events.list_targets_by_rule(Rule=rules[0]["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [_machine(aws, flow_class)] and targets[0]["RoleArn"] == EVENTS_ROLE

    # not this flow's event, and this event without a mapped field: no rule matches
    for name, payload in (("data.other", {"table_name": "x", "row_limit": 1}), ("data.ready", {"table_name": "x"})):
        sent = flowc(["trigger", path, "--target", "stepfunctions", "--event", name, "--payload", json.dumps(payload)], env)
        assert sent.returncode == 0, sent.stderr
    assert relay.deliveries == []

    sent = flowc(["trigger", path, "--target", "stepfunctions", "--event", "data.ready",
                  "--payload", json.dumps({"table_name": 'sales "q1"', "row_limit": 5, "extra": [1]})], env)
    assert sent.returncode == 0, sent.stderr
    [delivery] = relay.wait(1)
    assert "error" not in delivery, delivery
    assert json.loads(delivery["input"]) == {"table": 'sales "q1"', "limit": 5}
    assert delivery["role"] == EVENTS_ROLE
    sfn = aws.client("stepfunctions")
    desc = _wait(sfn, delivery["execution"])
    assert desc["status"] == "SUCCEEDED", desc
    run = Run("%s/%s" % (flow_class, desc["name"]), datastore=env["FLOWC_DATASTORE"])
    assert run["end"].task.data.seen == {"table": 'sales "q1"', "limit": 5, "note": "untouched"}


def test_finished_upstream_starts_its_on_finish_child(aws, env, relay, tmp_path):  # noqa: F811
    suffix = uuid.uuid4().hex[:6]
    data = _copy(tmp_path, "data_flow.py", {"DataFlow": "DataFlow" + suffix})
    train = _copy(tmp_path, "train_flow.py", {"DataFlow": "DataFlow" + suffix, "TrainFlow": "TrainFlow" + suffix})
    for path in (data, train):
        deployed = flowc(["deploy", path, "--target", "stepfunctions"], env)
        assert deployed.returncode == 0, deployed.stderr
    sfn = aws.client("stepfunctions")
    changes = StatusChanges(relay).start()
    try:
        started = flowc(["trigger", data, "--target", "stepfunctions", "--run-id", "data-1"], env)
        assert started.returncode == 0, started.stderr
        [delivery] = relay.wait(1, timeout=240)
    finally:
        changes.stop()
    assert [(e["name"], e["status"]) for e in changes.emitted if e["name"] == "data-1"] == [("data-1", "SUCCEEDED")]
    assert delivery["state_machine"] == _machine(aws, "TrainFlow" + suffix) and json.loads(delivery["input"]) == {}
    desc = _wait(sfn, delivery["execution"])
    assert desc["status"] == "SUCCEEDED", desc
    assert Run("TrainFlow%s/%s" % (suffix, desc["name"]), datastore=env["FLOWC_DATASTORE"])["end"].task.data.model \
        == "trained for 2 epochs"


def test_redeploy_is_idempotent_and_removes_rules_no_longer_declared(aws, env, tmp_path):  # noqa: F811
    flow_class = "EventFlow" + uuid.uuid4().hex[:6]
    path = _copy(tmp_path, "event_flow.py", {"EventFlow": flow_class})
    assert flowc(["deploy", path, "--target", "stepfunctions"], env).returncode == 0
    again = flowc(["deploy", path, "--target", "stepfunctions"], env)
    assert again.returncode == 0 and "event-rule %s-" % flow_class in again.stderr
    assert [line for line in again.stderr.splitlines() if "event-rule" in line and line.endswith("unchanged")]
    events = aws.client("events")
    assert len(events.list_rules(NamePrefix=flow_class + "-")["Rules"]) == 1
    # a rule of another flow that shares the prefix's start is not touched
    other = events.put_rule(Name=flow_class + "-other", EventPattern=json.dumps({"source": ["x"]}))
    assert other
    # the event renamed: the old rule goes, the new one comes
    Path(path).write_text(Path(path).read_text().replace('"data.ready"', '"data.landed"'))
    third = flowc(["deploy", path, "--target", "stepfunctions"], env)
    assert third.returncode == 0, third.stderr
    rules = events.list_rules(NamePrefix=flow_class + "-")["Rules"]
    assert sorted(r["Name"] for r in rules)[0] != sorted(r["Name"] for r in rules)[-1]
    patterns = [json.loads(r["EventPattern"]) for r in rules if r["Name"] != flow_class + "-other"]
    assert [p["detail-type"] for p in patterns] == [["data.landed"]]
    # no trigger at all: every rule of the flow goes
    text = Path(path).read_text()
    Path(path).write_text(text[text.index("class "):].join(["from metaflow import FlowSpec, Parameter, step\n\n\n", ""]))
    fourth = flowc(["deploy", path, "--target", "stepfunctions"], env)
    assert fourth.returncode == 0, fourth.stderr
    assert [r["Name"] for r in events.list_rules(NamePrefix=flow_class + "-")["Rules"]] == [flow_class + "-other"]
