"""Issue 14 on Step Functions (moto executing the state machine, Batch jobs as local processes in
empty directories; tests/stepfunctions/moto_sfn.py): `flowc deploy`, `flowc trigger --tag`, a
failure in a foreach body, `flowc status` / `runs` / `show` / `logs`, a fix, `flowc deploy` of the
fix and `flowc resume --target stepfunctions`, all through the command line."""
from __future__ import annotations

import time

from click.testing import CliRunner

from compiler.cli import main
from runtime_shim.client import Flow, Run
from tests.failures.flows import CLONED, RAISE_LINE, RERUN, executed_and_cloned, write
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

DATASTORE = "s3://flowc-sfn-failures/ds"


def _env(monkeypatch, sfn_moto):  # noqa: F811
    for key, value in (("AWS_ENDPOINT_URL", sfn_moto.endpoint), ("AWS_ACCESS_KEY_ID", "testing"),
                       ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1"),
                       ("FLOWC_DATASTORE", DATASTORE), ("FLOWC_S3_ENDPOINT", sfn_moto.endpoint),
                       ("FLOWC_BATCH_QUEUE", "flowc-queue"), ("FLOWC_AWS_REGION", "us-east-1"),
                       ("FLOWC_SFN_ROLE_ARN", "arn:aws:iam::123456789012:role/flowc-sfn"),
                       ("FLOWC_BRANCH", "failures")):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    sfn_moto.ensure_bucket("flowc-sfn-failures")
    sfn_moto.ensure_queue("flowc-queue")


def _flowc(*args):
    result = CliRunner().invoke(main, list(args))
    # a crash (not a clean exit) must fail the test with its traceback, not just an exit code
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def _wait(sfn_moto, flow, run_id, timeout=240):  # noqa: F811
    """The execution's final status, then `flowc status` must say the same."""
    sfn = sfn_moto.client("stepfunctions")
    [machine] = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                 if m["name"].startswith("SfnFailFlow")]
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + run_id
    deadline = time.time() + timeout
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.time() < deadline
        time.sleep(0.3)
    state = sfn.describe_execution(executionArn=arn)["status"]
    code, out = _flowc("status", flow, "--target", "stepfunctions", run_id)
    assert code == 0 and "run %s: %s" % (run_id, state) in out, out
    return state


def test_sfn_fail_logs_show_fix_resume(tmp_path, monkeypatch, sfn_moto):  # noqa: F811
    _env(monkeypatch, sfn_moto)
    flow = write(tmp_path / "flow.py", "SfnFailFlow")
    code, out = _flowc("deploy", flow, "--target", "stepfunctions", "--skip-preflight")
    assert code == 0, out
    code, out = _flowc("trigger", flow, "--target", "stepfunctions", "--run-id", "first", "--tag", "nightly")
    assert (code, out.strip().splitlines()[-1]) == (0, "first"), out
    assert _wait(sfn_moto, flow, "first") == "FAILED"

    code, out = _flowc("status", flow, "--target", "stepfunctions", "no-such-run")
    assert code == 1 and "no run no-such-run" in out and "Traceback" not in out
    assert "ExecutionDoesNotExist" not in out

    run = Run("SfnFailFlow/first", datastore=DATASTORE)
    assert run.tags == {"nightly"} and run.state == "failed"
    [failed] = run.failed_tasks()
    assert (failed.step_name, failed.id, failed.exception.type) == ("body", "t-1", "ValueError")
    assert 'File "flow.py", line %d, in body' % RAISE_LINE in failed.exception.traceback
    assert failed.stdout == "body item 2\n"
    code, out = _flowc("show", "SfnFailFlow/first", "--datastore", DATASTORE)
    assert code == 1 and "FAILED body/t-1 (attempt 0): ValueError: bad item 2" in out
    code, out = _flowc("logs", "SfnFailFlow/first/body/t-1", "--stdout", "--datastore", DATASTORE)
    assert (code, out) == (0, "body item 2\n")

    write(tmp_path / "flow.py", "SfnFailFlow", fixed=True)
    code, out = _flowc("deploy", flow, "--target", "stepfunctions", "--skip-preflight")
    assert code == 0, out
    code, out = _flowc("resume", flow, "first", "--target", "stepfunctions", "--tag", "resumed")
    assert code == 0, out
    new_id = out.strip().splitlines()[-1]
    assert _wait(sfn_moto, flow, new_id) == "SUCCEEDED"
    new = Run("SfnFailFlow/" + new_id, datastore=DATASTORE)
    assert new.successful and new.origin_run_id == "first" and new.data.total == 14
    assert executed_and_cloned(new) == (RERUN, CLONED)
    assert [r.id for r in Flow("SfnFailFlow", datastore=DATASTORE).runs("resumed")] == [new_id]

    code, out = _flowc("runs", flow, "--target", "stepfunctions")
    assert code == 0, out
    states = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert states == {"first": "FAILED", new_id: "SUCCEEDED"}


SLOW = '''from metaflow import FlowSpec, step


class SfnSlowFlow(FlowSpec):
    @step
    def start(self):
        import time
        time.sleep(25)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_sfn_terminate_stops_the_execution_and_its_batch_job(tmp_path, monkeypatch, sfn_moto):  # noqa: F811
    _env(monkeypatch, sfn_moto)
    flow = str(tmp_path / "slow.py")
    (tmp_path / "slow.py").write_text(SLOW)
    assert _flowc("deploy", flow, "--target", "stepfunctions", "--skip-preflight")[0] == 0
    code, out = _flowc("trigger", flow, "--target", "stepfunctions", "--run-id", "slow1")
    assert code == 0, out
    batch = sfn_moto.client("batch")
    deadline = time.time() + 60
    while True:     # wait until the start step's job runs
        running = [j for j in batch.list_jobs(jobQueue="flowc-queue", jobStatus="RUNNING")["jobSummaryList"]
                   if j["jobName"] == "SfnSlowFlow-start"]
        if running:
            break
        assert time.time() < deadline
        time.sleep(0.2)
    code, out = _flowc("terminate", flow, "slow1", "--target", "stepfunctions")
    assert code == 0 and "slow1: stopped; 1 Batch job(s) terminated" in out, out
    sfn = sfn_moto.client("stepfunctions")
    stop_by = time.time() + 20     # moto's interpreter thread settles the status after StopExecution
    while True:
        [execution] = [e for m in sfn.list_state_machines()["stateMachines"] if m["name"].startswith("SfnSlowFlow")
                       for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]]
        if execution["status"] != "RUNNING" or time.time() > stop_by:
            break
        time.sleep(0.2)
    assert (execution["name"], execution["status"]) == ("slow1", "ABORTED")
    [job] = batch.describe_jobs(jobs=[running[0]["jobId"]])["jobs"]
    assert job.get("statusReason") == "flowc terminate"
    code, out = _flowc("terminate", flow, "nope", "--target", "stepfunctions")
    assert code == 1 and "no run nope" in out and "Traceback" not in out
