"""A moto server (127.0.0.1, in this process) whose AWS Batch jobs run as local processes.

What is real and what is simulated:
- S3 and the Batch API (RegisterJobDefinition, DescribeJobDefinitions, SubmitJob, DescribeJobs)
  are moto's, reached over HTTP by `python -m runtime_shim batch-submit` running in the executor's
  pod process. S3 is the datastore (the bootstrap fetches the code package from it).
- moto would run a job's image with docker, which is not available here. `Job.run` (the thread
  moto starts for each submitted job) is replaced by `_run_locally`: it marks the job RUNNING, runs
  the job's REAL command (job definition command replaced by the SubmitJob override command, as
  Batch does) with the definition's environment under the override's (moto's own merge,
  `_get_container_property("environment")`) as a fresh container would (tests/doubles/batch_jobs.py:
  `python` is a STDLIB-ONLY interpreter unless the test maps the image in JOB_SETTINGS.images, a
  fresh working directory, TMPDIR and code cache), with the credentials a job role would give
  (the credentials endpoint double's sources in turn, or static keys) and S3 through a SigV4
  verifier in front of moto, enforces `timeout.attemptDurationSeconds`, and marks the job
  SUCCEEDED (exit 0) or FAILED with moto's `_mark_stopped`. Resources (VCPU/MEMORY/GPU) are
  recorded, not enforced.
"""
from __future__ import annotations

import threading
from datetime import datetime

from tests.doubles.batch_jobs import JobSettings, run_container

CREDENTIALS = {"AWS_DEFAULT_REGION": "us-east-1"}   # keys: tests/doubles/batch_jobs.py, per job
# How jobs run (tests/doubles/batch_jobs.py): stdlib-only python unless a test maps the image,
# a fresh sandbox each, credentials from the credentials double in turn, S3 signature-checked.
JOB_SETTINGS = JobSettings()
RAN: list[dict] = []
_lock = threading.Lock()


def _run_locally(self) -> None:
    try:
        self.job_started_at = datetime.now()
        self._start_attempt()
        self.status = "RUNNING"
        command = list(self._get_container_property("command", []))
        env_list = self._get_container_property("environment", [])
        env = {**CREDENTIALS, **{e["name"]: e["value"] for e in env_list}}
        image = self._get_container_property("image", None)
        timeout = (self.timeout or {}).get("attemptDurationSeconds")
        requirements = self.container_overrides.get("resourceRequirements", [])
        code, out, err = run_container(JOB_SETTINGS, self.job_name, image, command, env, timeout)
        with _lock:
            RAN.append({"name": self.job_name, "queue": self.job_queue.name,
                        "definition": self.job_definition.name, "command": command,
                        "resources": requirements, "exit": code, "log": out + err,
                        "image": image, "python": JOB_SETTINGS.ran[-1]["python"]})
        self.exit_code = code
        self._mark_stopped(success=code == 0)
    except Exception as e:  # never leave a job RUNNING forever
        with _lock:
            RAN.append({"name": getattr(self, "job_name", "?"), "error": repr(e)})
        self._mark_stopped(success=False)


class MotoBatch:
    def __init__(self):
        from moto.batch import models
        from moto.server import ThreadedMotoServer

        self._saved_run = models.Job.run
        models.Job.run = _run_locally
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        from tests.doubles.credentials import CredentialsDouble
        from tests.doubles.sigv4 import Keys, SigV4Double

        self.keys = Keys({"testing": "testing"})
        self.credentials = CredentialsDouble(self.keys)
        self.s3_verifier = SigV4Double(self.keys, upstream=self.endpoint)
        JOB_SETTINGS.credentials, JOB_SETTINGS.s3_endpoint = self.credentials, self.s3_verifier.endpoint

    def client(self, service):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def create_queues(self, *names):
        """Idempotent: moto's backends are process-wide and outlive one server."""
        import uuid

        iam = self.client("iam")
        role = iam.create_role(RoleName="batch-service-" + uuid.uuid4().hex[:8],
                               AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        batch = self.client("batch")
        env = batch.create_compute_environment(computeEnvironmentName="local-" + uuid.uuid4().hex[:8],
                                               type="UNMANAGED", state="ENABLED",
                                               serviceRole=role)["computeEnvironmentArn"]
        existing = {q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]}
        for name in names:
            if name not in existing:
                batch.create_job_queue(jobQueueName=name, state="ENABLED", priority=1,
                                       computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}])

    def stop(self):
        from moto.batch import models

        models.Job.run = self._saved_run
        JOB_SETTINGS.credentials = JOB_SETTINGS.s3_endpoint = None
        self.s3_verifier.stop()
        self.credentials.stop()
        self.server.stop()
