"""`python -m runtime_shim batch-submit` (the pod of a @batch step on Argo) on a STDLIB-ONLY python,
as in the default image: Batch RegisterJobDefinition / DescribeJobDefinitions / SubmitJob /
DescribeJobs and S3 go through runtime_shim.awslite, signature-checked by tests/doubles/sigv4.py
in front of moto, with IRSA (web identity) credentials from tests/doubles/credentials.py."""
from __future__ import annotations

import os
import subprocess

from tests.doubles.credentials import CredentialsDouble
from tests.doubles.sigv4 import SigV4Double
from tests.stdlib_python import clean_env, stdlib_python, task_sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = os.path.join(ROOT, "tests", "flows", "shared", "valid", "hello.py")


def _bootstrap():
    try:
        from compiler.compute.container import bootstrap_source
    except ImportError:
        from compiler.targets.stepfunctions.batch import bootstrap_source
    return bootstrap_source()


def test_batch_submit_runs_on_a_stdlib_python_with_irsa(tmp_path):
    from compiler import settings as S
    from compiler.compute.batch import submitter_argv
    from compiler.pipeline import build_code_package
    from compiler.runtime_spec import plan_for_file
    from tests.argo_executor.moto_batch import RAN, MotoBatch

    mb = MotoBatch()
    creds = CredentialsDouble(mb.keys)
    api = SigV4Double(mb.keys, upstream=mb.endpoint)     # Batch and S3 calls of the submitter pod
    try:
        mb.create_queues("q")
        bucket = "bs-" + os.urandom(4).hex()
        mb.client("s3").create_bucket(Bucket=bucket)
        st = S.resolve({"datastore": f"s3://{bucket}/root", "batch_queue": "q"}, flow_dir="/", environ={})
        plan, _ = plan_for_file(HELLO, None, st)
        package = build_code_package(plan, st)
        zip_path = tmp_path / "code.zip"
        zip_path.write_bytes(package.data)
        box = task_sandbox(tmp_path, "submitter")
        env = {"PATH": os.environ.get("PATH", ""), **box.env, "PYTHONPATH": str(zip_path),
               "AWS_ENDPOINT_URL": api.endpoint, "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_EC2_METADATA_DISABLED": "true", "FLOWC_BOOTSTRAP": _bootstrap(),
               **creds.env("web-identity", box.tmpdir)}
        before = len(RAN)
        for step, expected in (("start", 0), ("hello", 0), ("end", 0)):
            out = tmp_path / ("out-" + step)
            # the pod's argv as the Argo target compiles it (compiler.compute.batch.submitter_argv)
            argv = submitter_argv("HelloFlow", plan.steps[step], st, code_sha256=package.sha256, output_dir=str(out),
                                  task=["task", "--datastore", f"s3://{bucket}/root", "--run-id", "r1",
                                        "--step", step, "--output-dir", str(out)])
            argv.insert(1, "--poll-seconds=0.1")
            proc = subprocess.run([stdlib_python(), "-m", "runtime_shim", *argv],
                                  env=dict(clean_env(env), PYTHONPATH=str(zip_path)), cwd=box.cwd, capture_output=True, text=True, timeout=120)
            assert proc.returncode == expected, proc.stdout + proc.stderr + repr(RAN[before:])[-2000:]
            assert (out / "task_id").read_text() == "t"
        assert len({j["definition"] for j in RAN[before:]}) == 1      # registered once, then reused
        paths = [r["path"] for r in api.received]
        assert {"/v1/registerjobdefinition", "/v1/describejobdefinitions", "/v1/submitjob",
                "/v1/describejobs"} <= set(paths)
        assert any(p.startswith("/%s/root/HelloFlow/code/" % bucket) for p in paths)   # the upload
        assert api.rejected == [] and mb.s3_verifier.rejected == []
        assert creds.issued["web-identity"] >= 2 and creds.refused == []
        assert [j["exit"] for j in RAN[before:]] == [0, 0, 0]
    finally:
        api.stop()
        creds.stop()
        mb.stop()
