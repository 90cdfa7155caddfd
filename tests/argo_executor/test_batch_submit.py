"""runtime_shim batch-submit against moto Batch (jobs run locally, see moto_batch.py)."""
from __future__ import annotations

import json
import os

import pytest

from runtime_shim import batch_submit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELLO = os.path.join(ROOT, "tests", "flows", "shared", "valid", "hello.py")


@pytest.fixture
def batch_env(tmp_path, monkeypatch):
    from compiler import settings as S
    from compiler.pipeline import build_code_package
    from compiler.runtime_spec import plan_for_file

    from .moto_batch import RAN, MotoBatch

    RAN.clear()
    mb = MotoBatch()
    try:
        mb.create_queues("q")
        bucket = "bs-" + os.urandom(4).hex()
        mb.client("s3").create_bucket(Bucket=bucket)
        st = S.resolve({"datastore": f"s3://{bucket}/root", "s3_endpoint": mb.endpoint, "aws_region": "us-east-1"},
                       flow_dir="/", environ={})
        plan, _ = plan_for_file(HELLO, None, st)
        package = build_code_package(plan, st)
        zip_path = tmp_path / "code.zip"
        zip_path.write_bytes(package.data)
        for k, v in {"AWS_ENDPOINT_URL": mb.endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                     "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing",
                     "PYTHONPATH": str(zip_path)}.items():
            monkeypatch.setenv(k, v)
        yield mb, package, tmp_path, bucket, st
    finally:
        mb.stop()


def _argv(package, step, out, bucket, settings):
    """What the Argo target compiles for a @batch step (compiler.compute.batch.submitter_argv)."""
    from compiler.compute.batch import submitter_argv
    from compiler.compute.container import task_argv
    from compiler.ir import Compute, StepPlan

    plan_step = StepPlan(step, "linear", [], [], 0, Compute("batch", cpu=0.5, memory=2048), env={"A": "b"})
    argv = submitter_argv("HelloFlow", plan_step, settings.with_values(batch_queue="q"), code_sha256=package.sha256,
                          output_dir=str(out), task=task_argv(step, datastore=f"s3://{bucket}/root", run_id="r1"))
    assert argv[0] == "batch-submit"
    split = argv.index("--")
    # without the subcommand name, as runtime_shim's __main__ passes it
    return argv[1:split] + ["--poll-seconds", "0.1"] + argv[split:]


def test_submit_uploads_registers_once_and_reports(batch_env, capsys):
    from .moto_batch import RAN

    mb, package, tmp, bucket, st = batch_env
    assert batch_submit.main(_argv(package, "nope", tmp / "o1", bucket, st)) == 1   # runtime exit 2 -> job FAILED
    assert RAN[-1]["exit"] == 2
    argv = _argv(package, "start", tmp / "o2", bucket, st)
    assert batch_submit.main(argv) == 0
    assert (tmp / "o2" / "task_id").read_text() == "t"
    given = json.loads(argv[argv.index("--job-definition") + 1])
    names = {j["definition"] for j in RAN[-2:]}
    assert names == {given["jobDefinitionName"]}                          # the compiled definition, reused
    definitions = mb.client("batch").describe_job_definitions(jobDefinitionName=names.pop())["jobDefinitions"]
    assert len(definitions) == 1
    registered = definitions[0]["containerProperties"]
    assert registered["command"] == given["containerProperties"]["command"]
    assert registered["environment"] == given["containerProperties"]["environment"]   # registered as given
    keys = mb.client("s3").list_objects_v2(Bucket=bucket, Prefix="root/HelloFlow/code/")["Contents"]
    assert [k["Key"] for k in keys] == [f"root/HelloFlow/code/{package.sha256}.zip"]
    assert {"type": "VCPU", "value": "0.5"} in RAN[-1]["resources"]
    assert {"type": "MEMORY", "value": "2048"} in RAN[-1]["resources"]
    out = capsys.readouterr().out
    assert "SUCCEEDED" in out and "FAILED" in out and "registering job definition" in out


def test_bad_arguments_exit_2(batch_env):
    _, package, tmp, bucket, st = batch_env
    assert batch_submit.main(["--flow", "F"]) == 2
    assert batch_submit.main(["--flow", "F", "--", "nottask"]) == 2


def test_wrong_package_is_refused(batch_env, tmp_path):
    _, package, tmp, bucket, st = batch_env
    argv = _argv(package, "start", tmp / "o", bucket, st)
    argv[argv.index("--code-sha256") + 1] = "f" * 64
    assert batch_submit.main(argv) == 2
