"""`python -m runtime_shim batch-submit ... -- task ...`: run one task on AWS Batch and wait for it.

Used by the Argo target for @batch steps (mixed compute): the step's pod is only a submitter.
1. Make sure the code package is in the datastore at <root>/<Flow>/code/<sha256>.zip (upload it
   from the mounted ConfigMap zip on PYTHONPATH if absent; its sha256 is checked first).
2. Register the job definition given in --job-definition, exactly as given, unless it exists: the
   compiler built it (compiler/compute/batch.py, the one builder for every Batch job flowc starts)
   and named it by a hash of its content, so "exists under that name" means "identical".
3. Submit the job with the given queue and resources (--resources, Batch resourceRequirements),
   the definition's command followed by the task argv after `--`, and the step's @environment
   plus FLOWC_CODE_URL; poll DescribeJobs until it ends, printing each state change.
4. Exit 0 if SUCCEEDED (after copying the task's `num_splits` / `branch` / `task_id` from the
   datastore into --output-dir, where Argo reads its output parameters), 1 if FAILED, 2 on bad
   arguments, 3 when AWS or the datastore cannot be reached.
Pure stdlib: AWS Batch through runtime_shim.batchlite (boto3 only for credential sources it alone reads).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time

TERMINAL = ("SUCCEEDED", "FAILED")


class SubmitError(Exception):
    def __init__(self, message: str, code: int = 3):
        super().__init__(message)
        self.code = code


def parse_args(argv):
    if "--" not in argv:
        raise SubmitError("batch-submit needs `-- task ...` after its own options", 2)
    split = argv.index("--")
    own, task = argv[:split], argv[split + 1:]
    p = argparse.ArgumentParser(prog="python -m runtime_shim batch-submit")
    p.add_argument("--flow", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--job-definition", required=True, type=_json_object,
                   help="the RegisterJobDefinition request, as JSON: registered as given")
    p.add_argument("--resources", type=_json_list, default=[],
                   help="the job's resourceRequirements, as JSON")
    p.add_argument("--code-sha256", required=True)
    p.add_argument("--output-dir", help="where Argo reads the task's outputs (task_id, num_splits, branch)")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--timeout", type=int)
    p.add_argument("--poll-seconds", type=float, default=float(os.environ.get("FLOWC_BATCH_POLL_SECONDS", "10")))
    try:
        a = p.parse_args(own)
    except SystemExit:
        raise SubmitError("bad batch-submit arguments", 2) from None
    if not task or task[0] != "task":
        raise SubmitError("after `--` comes the task command: task --step ...", 2)
    if "jobDefinitionName" not in a.job_definition or "containerProperties" not in a.job_definition:
        raise SubmitError("--job-definition is not a RegisterJobDefinition request", 2)
    return a, task


def _json_object(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _json_list(text: str) -> list:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError("not a JSON list")
    return value


def task_option(task, name, default=None):
    return task[task.index(name) + 1] if name in task else default


def local_code_package() -> str:
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry.endswith(".zip") and os.path.isfile(entry):
            return entry
    raise SubmitError("no code package zip on PYTHONPATH (the flowc-code ConfigMap mount)", 2)


def ensure_code(datastore_root: str, flow: str, sha: str) -> str:
    """The package's URL in the datastore, uploaded from the mounted zip if absent."""
    from runtime_shim.datastore import FlowDatastore

    ds = FlowDatastore(datastore_root, flow)
    key = "%s/code/%s.zip" % (flow, sha)
    if not ds.storage.exists(key):
        with open(local_code_package(), "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != sha:
            raise SubmitError("the mounted code package does not match sha256 %s" % sha, 2)
        ds.save_code(data, sha)
        print("[batch-submit] uploaded the code package to %s/%s" % (datastore_root.rstrip("/"), key), flush=True)
    return "%s/%s" % (datastore_root.rstrip("/"), key)


def ensure_job_definition(batch, definition: dict) -> str:
    name = definition["jobDefinitionName"]
    found = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE").get("jobDefinitions", [])
    if found:
        return max(found, key=lambda d: d.get("revision", 0))["jobDefinitionArn"]
    print("[batch-submit] registering job definition %s" % name, flush=True)
    return batch.register_job_definition(**definition)["jobDefinitionArn"]


def submit(batch, a, task, definition_arn: str, code_url: str) -> str:
    step = task_option(task, "--step", "step")
    index = task_option(task, "--index-path", "") or ""
    run_id = task_option(task, "--run-id", "run")
    name = re.sub(r"[^A-Za-z0-9_-]", "-", "%s-%s-%s-%s" % (a.flow, run_id, step, index.replace(",", "-")))[:128]
    command = list(a.job_definition["containerProperties"].get("command") or []) + list(task)
    environment = [{"name": k, "value": v} for k, v in (e.split("=", 1) for e in a.env)]
    environment.append({"name": "FLOWC_CODE_URL", "value": code_url})
    overrides = {"command": command, "resourceRequirements": a.resources, "environment": environment}
    request = {"jobName": name, "jobQueue": a.queue, "jobDefinition": definition_arn,
               "containerOverrides": overrides}
    if a.timeout:
        request["timeout"] = {"attemptDurationSeconds": max(60, int(a.timeout))}
    job_id = batch.submit_job(**request)["jobId"]
    print("[batch-submit] submitted %s as job %s to queue %s" % (name, job_id, a.queue), flush=True)
    return job_id


def wait(batch, job_id: str, poll: float) -> str:
    last = None
    while True:
        jobs = batch.describe_jobs(jobs=[job_id]).get("jobs", [])
        status = jobs[0]["status"] if jobs else "UNKNOWN"
        if status != last:
            reason = jobs[0].get("statusReason", "") if jobs else ""
            print("[batch-submit] job %s: %s%s" % (job_id, status, (" (%s)" % reason) if reason else ""), flush=True)
            last = status
        if status in TERMINAL:
            return status
        time.sleep(poll)


def write_outputs(task, flow: str, out_dir) -> None:
    if not out_dir:
        return
    from runtime_shim.datastore import FlowDatastore, task_id_for

    index = [int(x) for x in (task_option(task, "--index-path", "") or "").split(",") if x.strip()]
    task_id = task_id_for(index, int(task_option(task, "--iteration", "0") or 0))
    ds = FlowDatastore(task_option(task, "--datastore"), flow)
    base = ds.task_key(task_option(task, "--run-id"), task_option(task, "--step"), task_id)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "task_id"), "w") as f:
        f.write(task_id)
    foreach = ds.storage.read(base + "/foreach.json")
    if foreach is not None:
        with open(os.path.join(out_dir, "num_splits"), "w") as f:
            f.write(str(len(json.loads(bytes(foreach)))))
    switch = ds.storage.read(base + "/switch.json")
    if switch is not None:
        with open(os.path.join(out_dir, "branch"), "w") as f:
            f.write(json.loads(bytes(switch))["branch"])


def main(argv) -> int:
    try:
        a, task = parse_args(argv)
        datastore = task_option(task, "--datastore")
        if not datastore:
            raise SubmitError("the task command has no --datastore", 2)
        from runtime_shim import batchlite

        batch = batchlite.client()
        code_url = ensure_code(datastore, a.flow, a.code_sha256)
        arn = ensure_job_definition(batch, a.job_definition)
        job_id = submit(batch, a, task, arn, code_url)
        status = wait(batch, job_id, a.poll_seconds)
        if status != "SUCCEEDED":
            return 1
        write_outputs(task, a.flow, a.output_dir)
        return 0
    except SubmitError as e:
        sys.stderr.write("[batch-submit] error: %s\n" % e)
        return e.code
    except Exception as e:  # AWS or the datastore unreachable
        sys.stderr.write("[batch-submit] error: %s: %s\n" % (type(e).__name__, e))
        return 3
