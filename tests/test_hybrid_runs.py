"""`flowc run` hybrid runs: @batch steps as moto Batch jobs, @kubernetes steps as Jobs of the
Kubernetes double, the rest locally; results read back with runtime_shim.client."""
from __future__ import annotations

import io
import os
import shutil
import sys

from click.testing import CliRunner

from compiler.cli import main as cli
from runtime_shim.client import Run
from tests.hybrid_fixtures import FLOWS, aws, aws_env, kube, managed_queue  # noqa: F401
from tests.stepfunctions import moto_sfn


def _run(args, env=None):
    result = CliRunner().invoke(cli, ["run", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def _jobs_of(run_id):
    return [j for j in moto_sfn.JOBS.jobs if run_id.lower() in j.get("name", "")]


def test_hello_with_batch_sends_every_step_to_batch(aws, aws_env):
    queue = managed_queue(aws, "hybrid-default", ["m5.large", "m5.xlarge"])
    code, out = _run([os.path.join(FLOWS, "hello.py"), "--with", "batch", "--datastore", aws_env,
                      "--batch-queue", queue, "--run-id", "hello-batch-1"])
    assert code == 0, out
    jobs = _jobs_of("hello-batch-1")
    assert sorted(j["argv"][j["argv"].index("--step") + 1] for j in jobs) == ["end", "hello", "start"]
    assert all(j["exit_code"] == 0 for j in jobs)
    listed = aws.client("batch").list_jobs(jobQueue=queue, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert len([j for j in listed if "hello-batch-1" in j["jobName"]]) == 3
    assert Run("HelloFlow/hello-batch-1", datastore=aws_env).data.greeting == "hello world"
    assert "is SUCCEEDED" in out and "hello world" in out    # state lines and CloudWatch logs


def test_big_sum_batch_step_remote_end_local(aws, aws_env, tmp_path):
    source = open(os.path.join(FLOWS, "big_sum_batch.py")).read()
    assert "(80000, 80000)" in source and "@batch(memory=60000, cpu=1)" in source
    flow = tmp_path / "big_sum_batch.py"
    # numpy: an image that has it, which the Batch double runs with this venv's python (others: stdlib only)
    flow.write_text(source.replace("(80000, 80000)", "(300, 200)").replace(
        "@batch(memory=60000, cpu=1)", '@batch(memory=60000, cpu=1, image="flowc-test/numpy:1")'))
    queue = managed_queue(aws, "hybrid-64g", ["m5.4xlarge"])
    moto_sfn.JOB_SETTINGS.images["flowc-test/numpy:1"] = sys.executable
    try:
        code, out = _run([str(flow), "--datastore", aws_env, "--batch-queue", queue,
                          "--run-id", "bigsum-1"])
    finally:
        del moto_sfn.JOB_SETTINGS.images["flowc-test/numpy:1"]
    assert code == 0, out
    jobs = _jobs_of("bigsum-1")
    assert [j["argv"][j["argv"].index("--step") + 1] for j in jobs] == ["start"]
    data = Run("BigSum/bigsum-1", datastore=aws_env).data
    assert 300 * 200 * 0.4 < data.sum < 300 * 200 * 0.6
    # the local end step printed the sum (prefixed by its pathspec)
    assert "end/t | The sum is" in out


def test_hybrid_cloud_local_kubernetes_and_batch(aws, aws_env, kube):
    managed_queue(aws, "gpu-queue", ["g4dn.12xlarge"])
    managed_queue(aws, "cpu-queue", ["m5.2xlarge"])
    stream = io.StringIO()
    from compiler.runner.hybrid import run_hybrid

    code = run_hybrid(os.path.join(FLOWS, "hybrid_cloud.py"), datastore=aws_env,
                      run_id="hybrid-1", setting_flags={"k8s_namespace": "flowc"}, stream=stream,
                      tty=False)
    out = stream.getvalue()
    assert code == 0, out
    # prepare_data: one Kubernetes Job per country, running the container command of the contract
    assert sorted(r["name"] for r in kube.ran) == sorted(r["name"] for r in kube.ran if "prepare-data" in r["name"])
    assert len(kube.ran) == 3 and all(r["exit_code"] == 0 for r in kube.ran)
    assert all(r["namespace"] == "flowc" for r in kube.ran)
    assert kube.ran[0]["argv"][1:3] == ["-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])']
    assert kube.ran[0]["env"]["FLOWC_CODE_URL"].startswith(aws_env)
    # train (x3, gpu-queue) and join (cpu-queue) on Batch; start and end locally
    jobs = _jobs_of("hybrid-1")
    steps = sorted(j["argv"][j["argv"].index("--step") + 1] for j in jobs)
    assert steps == ["join", "train", "train", "train"]
    train = next(j for j in aws.client("batch").list_jobs(jobQueue="gpu-queue")["jobSummaryList"]
                 if "hybrid-1" in j["jobName"])
    from moto.batch import batch_backends   # what SubmitJob sent (DescribeJobs omits overrides)

    job = batch_backends[moto_sfn.ACCOUNT][moto_sfn.REGION].get_job_by_id(train["jobId"])
    assert {"type": "GPU", "value": "2"} in job.container_overrides["resourceRequirements"]
    run = Run("HybridCloudFlow/hybrid-1", datastore=aws_env)
    assert run.data.best in ("US", "BR", "IT")
    assert "processing a shard of data" in out          # pod logs
    assert "produced best results" in out               # the local end step


def test_batch_retry_runs_a_new_job(aws, aws_env, tmp_path):
    flow = tmp_path / "flaky.py"
    flow.write_text('''
from metaflow import FlowSpec, batch, retry, step, current


class FlakyFlow(FlowSpec):
    @retry(times=1, minutes_between_retries=0)
    @batch(cpu=1)
    @step
    def start(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.ok = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FlakyFlow()
''')
    queue = managed_queue(aws, "hybrid-default", ["m5.large"])
    code, out = _run([str(flow), "--datastore", aws_env, "--batch-queue", queue, "--run-id", "flaky-1"])
    assert code == 0, out
    assert [j["exit_code"] for j in _jobs_of("flaky-1")] == [1, 0]
    assert Run("FlakyFlow/flaky-1", datastore=aws_env).data.ok == 1
    assert "first attempt fails" in out


def test_local_datastore_with_remote_step_is_refused_before_anything_starts(aws, aws_env, tmp_path):
    shutil.copy(os.path.join(FLOWS, "big_sum_batch.py"), tmp_path / "flow.py")
    before = len(moto_sfn.JOBS.jobs)
    code, out = _run([str(tmp_path / "flow.py"), "--batch-queue", "q"],
                     env={"FLOWC_DATASTORE": "file://" + str(tmp_path / "ds")})
    assert code == 2
    assert "start (batch)" in out and "FLOWC_DATASTORE" in out and "--datastore" in out
    assert not (tmp_path / "ds").exists() and len(moto_sfn.JOBS.jobs) == before


def test_missing_queue_setting_is_named(aws, aws_env):
    code, out = _run([os.path.join(FLOWS, "hello.py"), "--with", "batch", "--datastore", aws_env])
    assert code == 2
    assert "batch_queue" in out or "FLOWC_BATCH_QUEUE" in out
