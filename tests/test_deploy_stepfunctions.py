"""`flowc deploy/trigger/status --target stepfunctions` against a moto server on 127.0.0.1 over
HTTP (tests/stepfunctions/moto_sfn.py: Batch jobs run their real command locally), checked from
the AWS side with boto3 afterwards."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hybrid_fixtures import aws, aws_env, managed_queue  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
FLOWS = ROOT / "tests" / "flows" / "shared" / "valid"
ROLE = "arn:aws:iam::123456789012:role/flowc-sfn"


def flowc(args, env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=180)


@pytest.fixture
def deploy_env(aws, aws_env):  # noqa: F811
    queue = managed_queue(aws, "deploy-queue", ["m5.4xlarge"])
    return {"FLOWC_DATASTORE": aws_env, "FLOWC_SFN_ROLE_ARN": ROLE, "FLOWC_BATCH_QUEUE": queue,
            "FLOWC_BATCH_JOB_ROLE_ARN": "arn:aws:iam::123456789012:role/flowc-task",
            "FLOWC_S3_ENDPOINT": aws.endpoint}        # tasks reach the same S3 as this process


def _machines(aws, name):
    return [m for m in aws.client("stepfunctions").list_state_machines()["stateMachines"] if m["name"] == name]


def _revisions(aws, prefix):
    defs = aws.client("batch").describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    return sorted((d["jobDefinitionName"], d["revision"]) for d in defs if d["jobDefinitionName"].startswith(prefix))


def test_deploy_twice_then_trigger_and_status(aws, deploy_env, tmp_path):
    flow = tmp_path / "hello.py"
    flow.write_text((FLOWS / "hello.py").read_text())
    first = flowc(["deploy", str(flow), "--target", "stepfunctions"], deploy_env)
    assert first.returncode == 0, first.stderr
    machines = _machines(aws, "HelloFlow")
    assert len(machines) == 1
    revisions = _revisions(aws, "flowc-")
    assert revisions
    # the code package is in S3 where the definition expects it
    bucket, _, prefix = deploy_env["FLOWC_DATASTORE"][5:].partition("/")
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert any(k.startswith(f"{prefix}/HelloFlow/code/") and k.endswith(".zip") for k in keys), keys

    second = flowc(["deploy", str(flow), "--target", "stepfunctions"], deploy_env)
    assert second.returncode == 0, second.stderr
    assert _revisions(aws, "flowc-") == revisions          # no new job definition revisions
    assert len(_machines(aws, "HelloFlow")) == 1
    assert "unchanged" in second.stderr

    started = flowc(["trigger", str(flow), "--target", "stepfunctions", "--run-id", "run-one"], deploy_env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "run-one"
    sfn = aws.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=machines[0]["stateMachineArn"])["executions"]
    assert [e["name"] for e in executions] == ["run-one"]
    deadline = time.time() + 120
    while time.time() < deadline:
        state = json.loads(flowc(["status", str(flow), "run-one", "--target", "stepfunctions", "--json"],
                                 deploy_env).stdout)
        if state["status"] != "RUNNING":
            break
        time.sleep(1)
    assert state["status"] == "SUCCEEDED", (state, _debug_failure(aws, machines[0]["stateMachineArn"]))
    assert set(state["steps"]) >= {"start", "hello", "end"}


def test_trigger_refuses_bad_parameters_before_sending(aws, deploy_env):
    flow = str(FLOWS / "parameters.py")
    assert flowc(["deploy", flow, "--target", "stepfunctions"], deploy_env).returncode == 0
    arn = _machines(aws, "ParameterFlow")[0]["stateMachineArn"]
    bad = flowc(["trigger", flow, "--target", "stepfunctions", "--param", "alpha=fast"], deploy_env)
    assert bad.returncode == 2
    assert "alpha" in bad.stderr and "who" in bad.stderr          # wrong type and missing required
    assert aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"] == []


def test_refused_state_machine_update_leaves_previous_version(aws, deploy_env, tmp_path, monkeypatch):
    from moto.stepfunctions import models

    flow = tmp_path / "hello.py"
    flow.write_text((FLOWS / "hello.py").read_text().replace("class HelloFlow", "class RefusedFlow"))
    assert flowc(["deploy", str(flow), "--target", "stepfunctions"], deploy_env).returncode == 0
    sfn = aws.client("stepfunctions")
    arn = _machines(aws, "RefusedFlow")[0]["stateMachineArn"]
    before = sfn.describe_state_machine(stateMachineArn=arn)["definition"]

    def refuse(self, *args, **kwargs):   # the emulator answers 500 to UpdateStateMachine
        raise RuntimeError("refused by the test")

    monkeypatch.setattr(models.StepFunctionBackend, "update_state_machine", refuse)
    flow.write_text(flow.read_text().replace('"hello"', '"changed"'))
    failed = flowc(["deploy", str(flow), "--target", "stepfunctions"], deploy_env)
    assert failed.returncode == 1
    assert "state-machine RefusedFlow failed" in failed.stderr
    assert "the previous deployment is untouched" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == before


def test_missing_role_setting_is_named(deploy_env):
    env = dict(deploy_env, FLOWC_SFN_ROLE_ARN="")
    result = flowc(["deploy", str(FLOWS / "hello.py"), "--target", "stepfunctions"], env)
    assert result.returncode == 1
    assert "FLOWC_SFN_ROLE_ARN" in result.stderr


def test_preflight_refuses_a_step_bigger_than_the_queue(aws, deploy_env):
    small = managed_queue(aws, "small-queue", ["m5.2xlarge"])            # 32 GiB
    env = dict(deploy_env, FLOWC_BATCH_QUEUE=small)
    result = flowc(["deploy", str(FLOWS / "big_sum.py"), "--target", "stepfunctions"], env)
    assert result.returncode == 1
    assert "60000" in result.stderr and "nothing was changed" in result.stderr
    assert _machines(aws, "BigSum") == []


def _debug_failure(aws, arn):  # pragma: no cover - used when a run fails, to say why
    sfn = aws.client("stepfunctions")
    ex = sfn.list_executions(stateMachineArn=arn)["executions"][0]["executionArn"]
    events = sfn.get_execution_history(executionArn=ex)["events"]
    failed = [e for e in events if "Failed" in e["type"]]
    causes = [json.loads(e.get("taskFailedEventDetails", {}).get("cause") or "{}") for e in failed]
    return [(c.get("StatusReason"), c.get("Container", {}).get("Reason"), c.get("Container", {}).get("ExitCode"))
            for c in causes]
