"""A moto server that EXECUTES Step Functions state machines whose Batch jobs run for real, as
local processes.

What is real and what is simulated (keep this honest):
- Step Functions: moto 5.2.x's ASL interpreter (config stepfunctions.execute_state_machine=True),
  driven through the real API (CreateStateMachine, StartExecution, DescribeExecution,
  GetExecutionHistory) over HTTP on 127.0.0.1.
- S3: moto S3 is the datastore. The code package is uploaded where `flowc deploy` puts it
  (<root>/<Flow>/code/<sha>.zip); the ItemReader / aws-sdk:s3:getObject states read what tasks wrote.
- Batch: RegisterJobDefinition / SubmitJob / DescribeJobs are moto's. moto would run the job's
  image with docker, which is not available here, so `Job.run` is replaced by `_run_job_locally`:
  it runs the job's REAL container command (job definition command, replaced by the SubmitJob
  container override exactly as Batch does) as a local process, as strictly as a fresh container
  (tests/doubles/batch_jobs.py): `python` is a STDLIB-ONLY interpreter unless the test maps the
  job's image to another (JOB_SETTINGS.images), in a fresh empty working directory and TMPDIR with
  no cached code package, with the job definition's environment merged under the override
  environment, plus AWS_BATCH_JOB_ID / AWS_BATCH_JOB_ATTEMPT, and the SubmitJob timeout enforced
  as Batch would (kill -> FAILED). Exit code 0 -> SUCCEEDED, else FAILED.
- Credentials and S3 signatures: jobs get their AWS credentials from the credentials endpoint
  double (ECS/EKS container endpoint, Pod Identity, IRSA via STS, IMDSv2) or static keys, in turn,
  and reach S3 through a SigV4-verifying double in front of moto (tests/doubles/sigv4.py): a
  badly signed request fails the job as on AWS.
- moto 5.2.x's Batch `.sync` integration hands the ASL's PascalCase parameters (JobName, ...)
  to botocore unchanged (its `_normalise_parameters` is a no-op), which serialises nothing and
  fails with KeyError 'JobName' / 'JobId'. Likewise its aws-sdk integration returns S3
  GetObject's Body as a stream object (Step Functions returns a string), and a Retry of a
  `.sync` Batch task times out at once (a stale task-token wait); both patched, see below. Real Step Functions maps them onto the API's
  camelCase members. We patch that normalisation in (both ways, using botocore's own service
  model, as moto's aws-sdk integration already does) -- a fix to the test double, not to flowc.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

from tests.doubles.batch_jobs import JobSettings, run_container

REGION = "us-east-1"
ACCOUNT = "123456789012"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_op_cache: dict[tuple[str, str], Any] = {}


def _operation(service: str, snake_action: str):
    key = (service, snake_action)
    if key not in _op_cache:
        import botocore.session
        from botocore import xform_name

        model = botocore.session.get_session().get_service_model(service)
        for name in model.operation_names:
            if xform_name(name) == snake_action:
                _op_cache[key] = model.operation_model(name)
                break
        else:
            _op_cache[key] = None
    return _op_cache[key]


def _patch_batch_integration() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_batch as sb,
        state_task_service_callback as cb,
    )

    cls = sb.StateTaskServiceBatch

    def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        op = _operation(self._get_boto_service_name(boto_service_name),
                        self._get_boto_service_action(service_action_name))
        if op is not None:
            self._to_boto_request(parameters, op.input_shape)

    def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
        op = _operation(self._get_boto_service_name(boto_service_name),
                        self._get_boto_service_action(service_action_name))
        if op is not None:
            self._from_boto_response(response, op.output_shape)

    cls._normalise_parameters = _normalise_parameters
    cls._normalise_response = _normalise_response

    # moto listens for a task-token callback even on `.sync` Batch tasks, on an endpoint keyed by
    # the state's token, and interrupts it when an attempt ends; a Retry attempt of the same state
    # then finds the endpoint interrupted and "times out" at once (States.Timeout). `.sync` has no
    # task token on AWS: poll DescribeJobs only.
    original_eval_sync = cls._eval_sync

    def _eval_sync(self, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint):
        return original_eval_sync(self, env, sync_resolver, timeout_seconds, None, heartbeat_endpoint)

    cls._eval_sync = _eval_sync

    # The aws-sdk integration hands back botocore's streaming Body (a StreamingChecksumBody with
    # current botocore) where Step Functions returns the body as a string; read it.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    def _sdk_normalise_response(self, response, boto_service_name=None, service_action_name=None):
        if isinstance(response, dict):
            for key, value in list(response.items()):
                if hasattr(value, "read"):
                    response[key] = value.read().decode("utf-8")

    sdk.StateTaskServiceAwsSdk._normalise_response = _sdk_normalise_response
    cb._DELAY_SECONDS_SYNC_CONDITION_CHECK = 0.05   # poll DescribeJobs faster than 0.5 s


class JobLog:
    """Every job the fake Batch ran: name, argv, exit code, output (for assertions and debugging)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.jobs.append(record)


JOBS = JobLog()
# How jobs run (tests/doubles/batch_jobs.py): a stdlib-only python unless a test maps the image in
# JOB_SETTINGS.images, a fresh sandbox each, credentials and S3 through the verifying doubles.
JOB_SETTINGS = JobSettings()


def _run_job_locally(self) -> None:   # replaces moto.batch.models.Job.run
    from moto.batch.utils import JobStatus

    try:
        self.job_started_at = datetime.now()
        self.status = JobStatus.RUNNING
        self._start_attempt()
        props = self.job_definition.container_properties or {}
        command = list(self.container_overrides.get("command") or props.get("command") or [])
        env = {e["name"]: e["value"] for e in props.get("environment", [])}
        env.update({e["name"]: e["value"] for e in self.container_overrides.get("environment", []) or []})
        env.update({
            "AWS_BATCH_JOB_ID": self.job_id,
            "AWS_BATCH_JOB_ATTEMPT": "1",
            "AWS_BATCH_JQ_NAME": self.job_queue.name,
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", REGION),
        })
        timeout = self._get_attempt_duration()
        started = time.time()
        code, out, err = run_container(JOB_SETTINGS, self.job_name, props.get("image"), command, env, timeout)
        JOBS.add({"name": self.job_name, "id": self.job_id, "argv": command, "exit_code": code,
                  "stdout": out, "stderr": err, "seconds": round(time.time() - started, 3)})
        self.exit_code = code
        self._mark_stopped(success=(code == 0))
    except Exception as error:  # pragma: no cover - a bug in the double itself
        JOBS.add({"name": getattr(self, "job_name", "?"), "error": repr(error)})
        self._mark_stopped(success=False)


def install_job_runner():
    """Make moto's Batch run jobs with `_run_job_locally`; returns what was installed before.
    moto's backends (and so Job.run) are process-wide, shared with other test doubles."""
    from moto.batch import models as batch_models

    previous = batch_models.Job.run
    batch_models.Job.run = _run_job_locally
    return previous


class MotoSfn:
    """The running server plus helpers to deploy a compiled flow and run it."""

    def __init__(self) -> None:
        from moto.core.config import default_user_config
        from moto.batch import models as batch_models
        from moto.server import ThreadedMotoServer

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        # use_docker stays True: the full Batch backend starts Job threads, whose run() we replace
        # (use_docker=False would select batch_simple, which marks jobs SUCCEEDED without running them).
        default_user_config["batch"]["use_docker"] = True
        # No state_manager override: moto's default for batch::job is "manual, times=1", which only
        # moves on advance(); our runner never calls it and sets the status itself. (Overriding it
        # process-wide would stall other Batch doubles that do rely on advance().)
        self._saved_run = batch_models.Job.run
        install_job_runner()
        _patch_batch_integration()
        from tests.doubles import moto_map_failures, moto_parallel_errors

        moto_map_failures.install()
        moto_parallel_errors.install()

        self.port = _free_port()
        os.environ["MOTO_PORT"] = str(self.port)   # moto's ASL interpreter calls back to this port
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        from tests.doubles.credentials import CredentialsDouble
        from tests.doubles.sigv4 import Keys, SigV4Double

        self.keys = Keys({"testing": "testing"})
        self.credentials = CredentialsDouble(self.keys)
        self.s3_verifier = SigV4Double(self.keys, upstream=self.endpoint)
        JOB_SETTINGS.credentials = self.credentials
        JOB_SETTINGS.s3_endpoint = self.s3_verifier.endpoint
        self._queues: dict[str, str] = {}
        self._buckets: set[str] = set()

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self) -> None:
        from moto.batch import models as batch_models

        batch_models.Job.run = self._saved_run
        JOB_SETTINGS.credentials = JOB_SETTINGS.s3_endpoint = None
        self.s3_verifier.stop()
        self.credentials.stop()
        self.server.stop()

    # --- infrastructure ----------------------------------------------------------------------
    def ensure_bucket(self, bucket: str) -> None:
        if bucket not in self._buckets:
            self.client("s3").create_bucket(Bucket=bucket)
            self._buckets.add(bucket)

    def ensure_queue(self, name: str) -> str:
        if name in self._queues:
            return self._queues[name]
        iam = self.client("iam")
        try:
            role = iam.create_role(RoleName="flowc-batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            role = iam.get_role(RoleName="flowc-batch-service")["Role"]["Arn"]
        batch = self.client("batch")
        existing = batch.describe_job_queues(jobQueues=[name])["jobQueues"]
        if existing:   # moto's backends are process-wide: another fixture may have made it
            self._queues[name] = existing[0]["jobQueueArn"]
            return self._queues[name]
        env = batch.create_compute_environment(computeEnvironmentName=f"ce-{name}", type="UNMANAGED",
                                               state="ENABLED", serviceRole=role)
        arn = batch.create_job_queue(jobQueueName=name, state="ENABLED", priority=1,
                                     computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}]
                                     )["jobQueueArn"]
        self._queues[name] = arn
        return arn

    def deploy(self, result, *, name: str | None = None) -> str:
        """Register job definitions, upload the code package, create the state machine."""
        files = {f.name: f.content for f in result.files}
        batch = self.client("batch")
        for fname, content in sorted(files.items()):
            if fname.endswith(".jobdef.json"):
                batch.register_job_definition(**json.loads(content))
        package = result.package
        url = package.url
        assert url and url.startswith("s3://"), url
        bucket, _, key = url[5:].partition("/")
        self.ensure_bucket(bucket)
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=package.data)
        asl_name = next(n for n in files if n.endswith(".asl.json"))
        definition = json.loads(files[asl_name])
        for queue in _queues_of(definition):
            self.ensure_queue(queue)
        sm_name = name or asl_name[: -len(".asl.json")]
        sfn = self.client("stepfunctions")
        arn = sfn.create_state_machine(name=sm_name, definition=files[asl_name].decode("utf-8"),
                                       roleArn=f"arn:aws:iam::{ACCOUNT}:role/flowc-sfn")["stateMachineArn"]
        return arn

    def run(self, state_machine_arn: str, execution_name: str, input_: dict | None = None,
            timeout: float = 300) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        ex = sfn.start_execution(stateMachineArn=state_machine_arn, name=execution_name,
                                 input=json.dumps(input_ or {}))["executionArn"]
        deadline = time.time() + timeout
        while True:
            desc = sfn.describe_execution(executionArn=ex)
            if desc["status"] != "RUNNING":
                break
            if time.time() > deadline:
                raise TimeoutError(f"execution {execution_name} still running after {timeout}s")
            time.sleep(0.1)
        events = []
        kwargs: dict[str, Any] = {"executionArn": ex, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        desc["events"] = events
        return desc


def _queues_of(definition: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            queue = state.get("Parameters", {}).get("JobQueue") if isinstance(state.get("Parameters"), dict) else None
            if queue and queue not in found:
                found.append(queue)
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(definition["States"])
    return found
