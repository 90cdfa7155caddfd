"""Run a task as an AWS Batch job (boto3), for `flowc run` hybrid runs.

The job definition is the one every Batch job of flowc uses (compiler.compute.batch.job_definition,
registered with compiler.compute.aws.register_job_definition): image, the bootstrap command, the
code package URL and the datastore. Each attempt is one SubmitJob whose container overrides carry the
task argv, the step's VCPU/MEMORY/GPU and its @environment; queue from @batch(queue=...) else the
batch_queue setting. The runner retries (the definition allows one Batch attempt).
"""
from __future__ import annotations

import time
from typing import Any

from compiler.ir import StepPlan
from compiler.runner.backends import Backend, BackendError, LineSink, RemoteTask, job_name, require

TERMINAL = ("SUCCEEDED", "FAILED")
LOG_GROUP = "/aws/batch/job"


class BatchBackend(Backend):
    name = "batch"

    def __init__(self, settings: Any, flow_name: str, code_sha256: str, code_url: str, *,
                 session=None, poll_seconds: float = 2.0):
        self.settings = settings
        self.flow_name = flow_name
        self.code_sha256 = code_sha256
        self.code_url = code_url
        self.poll = poll_seconds
        if session is None:
            from compiler.compute import aws

            session = aws.session(settings)
        self.batch = session.client("batch")
        self.logs = session.client("logs")
        self.definitions: dict[str, str] = {}   # step name -> job definition name

    def queue_of(self, step: StepPlan) -> str:
        return step.compute.queue or require(self.settings, "batch_queue",
                                             "step %s runs on AWS Batch without @batch(queue=...)"
                                             % step.name)

    def prepare(self, steps: list[StepPlan]) -> None:
        from compiler.compute.aws import register_job_definition
        from compiler.compute.batch import job_definition

        for step in steps:
            self.queue_of(step)
            request = job_definition(self.flow_name, step.compute, self.settings,
                                     code_sha256=self.code_sha256, code_url=self.code_url)
            name = request["jobDefinitionName"]
            if name not in self.definitions.values():
                try:
                    register_job_definition(self.batch, request)
                except Exception as error:  # noqa: BLE001 - botocore errors: name the definition
                    raise BackendError("cannot register the Batch job definition %s: %s"
                                       % (name, error)) from None
            self.definitions[step.name] = name

    def submit_request(self, task: RemoteTask) -> dict[str, Any]:
        from compiler.compute.batch import batch_timeout_seconds, container_overrides
        from compiler.compute.batch import submit_tags as batch_tags

        step = task.step
        overrides = container_overrides(step.compute, task.args, task.env)
        request: dict[str, Any] = {
            "jobName": job_name("flowc", self.flow_name, task.run_id, step.name, task.task_id,
                                "a%d" % task.attempt, limit=128),
            "jobQueue": self.queue_of(step),
            "jobDefinition": self.definitions[step.name],
            "containerOverrides": overrides,
            "tags": {**batch_tags(step.compute), "flowc:flow": self.flow_name, "flowc:run": task.run_id,
                     "flowc:step": step.name},     # @batch(aws_batch_tags=...), then flowc's
            "propagateTags": True,
        }
        timeout = batch_timeout_seconds(step)
        if timeout:
            request["timeout"] = {"attemptDurationSeconds": timeout}
        return request

    def run_task(self, task: RemoteTask, line: LineSink) -> int:
        try:
            job_id = self.batch.submit_job(**self.submit_request(task))["jobId"]
        except Exception as error:  # noqa: BLE001
            line("cannot submit the Batch job: %s" % error)
            return 3
        line("Batch job %s submitted to %s" % (job_id, self.queue_of(task.step)))
        state, log_token, stream = None, None, None
        job: dict[str, Any] = {}
        while True:
            try:
                jobs = self.batch.describe_jobs(jobs=[job_id]).get("jobs", [])
            except Exception as error:  # noqa: BLE001 - transient API errors: keep polling
                line("describe_jobs failed (%s); retrying" % error)
                time.sleep(self.poll)
                continue
            job = jobs[0] if jobs else {}
            if job.get("status") != state:
                state = job.get("status")
                line("Batch job %s is %s%s" % (job_id, state, _reason(job)))
            stream = (job.get("container") or {}).get("logStreamName") or stream
            if stream:
                log_token = self._print_logs(stream, log_token, line)
            if state in TERMINAL:
                break
            time.sleep(self.poll)
        if stream:
            self._print_logs(stream, log_token, line)
        code = (job.get("container") or {}).get("exitCode")
        if state == "SUCCEEDED":
            return 0
        return int(code) if code not in (None, 0) else 1

    def _print_logs(self, stream: str, token, line: LineSink):
        """Print new CloudWatch events of the job's log stream; returns the next forward token."""
        kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamName": stream,
                                  "startFromHead": True}
        while True:
            if token:
                kwargs["nextToken"] = token
            try:
                page = self.logs.get_log_events(**kwargs)
            except Exception:  # noqa: BLE001 - no stream yet / no permission: logs are best effort
                return token
            for event in page.get("events", []):
                line(event.get("message", "").rstrip("\n"))
            nxt = page.get("nextForwardToken")
            if not nxt or nxt == token or not page.get("events"):
                return nxt or token
            token = nxt


def _reason(job: dict) -> str:
    reason = job.get("statusReason") or ""
    return " (%s)" % reason if reason and job.get("status") in TERMINAL else ""
