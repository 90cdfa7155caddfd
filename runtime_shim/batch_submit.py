"""`python -m runtime_shim batch-submit ... -- task ...`: run one task on AWS Batch and wait for it.

Used by the Argo target for @batch steps (mixed compute): the step's pod is only a submitter.
1. Make sure the code package is in the datastore at <root>/<Flow>/code/<sha256>.zip (upload it
   from the mounted ConfigMap zip on PYTHONPATH if absent; its sha256 is checked first).
2. Register the step's job definition unless an identical one exists: the definition's name is
   a hash of its content, so "exists under that name" means "identical". Same shape as the Step
   Functions target (compiler/targets/stepfunctions/batch.py): command prefix `python -c
   <FLOWC_BOOTSTRAP>` (docs/runtime-contract.md), FLOWC_CODE_URL/SHA256, one Batch attempt
   (the engine, here Argo's retryStrategy, retries).
3. Submit the job with the step's resources, queue, image and the same task argv, plus the
   step's @environment; poll DescribeJobs until it ends, printing each state change.
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

COMMAND_PREFIX = ["python", "-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])']
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
    p.add_argument("--image", required=True)
    p.add_argument("--cpu", default="1")
    p.add_argument("--memory", type=int, default=4096)
    p.add_argument("--gpu", type=int, default=0)
    p.add_argument("--code-sha256", required=True)
    p.add_argument("--job-role")
    p.add_argument("--execution-role")
    p.add_argument("--shared-memory", type=int)
    p.add_argument("--tmpfs-size", type=int)
    p.add_argument("--tmpfs-path", default="/metaflow_temp")
    p.add_argument("--max-swap", type=int)
    p.add_argument("--swappiness", type=int)
    p.add_argument("--privileged", action="store_true")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--timeout", type=int)
    p.add_argument("--poll-seconds", type=float, default=float(os.environ.get("FLOWC_BATCH_POLL_SECONDS", "10")))
    try:
        a = p.parse_args(own)
    except SystemExit:
        raise SubmitError("bad batch-submit arguments", 2) from None
    if not task or task[0] != "task":
        raise SubmitError("after `--` comes the task command: task --step ...", 2)
    return a, task


def task_option(task, name, default=None):
    return task[task.index(name) + 1] if name in task else default


def cpu_value(text: str) -> str:
    """Kubernetes-style cpu ("500m", "2") -> Batch VCPU ("0.5", "2")."""
    value = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    return str(int(value)) if value == int(value) else repr(value)


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


def linux_parameters(a) -> dict:
    params: dict = {}
    if a.shared_memory:
        params["sharedMemorySize"] = int(a.shared_memory)
    if a.tmpfs_size is not None:
        size = int(a.tmpfs_size or max(1, a.memory // 2))
        params["tmpfs"] = [{"containerPath": a.tmpfs_path, "size": size,
                            "mountOptions": ["rw", "noexec", "nosuid", "nodev"]}]
    if a.max_swap is not None:
        params["maxSwap"] = int(a.max_swap)
        if a.swappiness is not None:
            params["swappiness"] = int(a.swappiness)
    return params


def job_definition(a, code_url: str) -> dict:
    env = [("FLOWC_BOOTSTRAP", os.environ.get("FLOWC_BOOTSTRAP", "")), ("FLOWC_CODE_URL", code_url),
           ("FLOWC_CODE_SHA256", a.code_sha256)]
    for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            env.append((name, os.environ[name]))
    env.append(("PYTHONUNBUFFERED", "1"))
    container: dict = {
        "image": a.image,
        "command": list(COMMAND_PREFIX),
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "4096"}],
        "environment": [{"name": k, "value": v} for k, v in env],
    }
    if a.job_role:
        container["jobRoleArn"] = a.job_role
    if a.execution_role:
        container["executionRoleArn"] = a.execution_role
    if a.privileged:
        container["privileged"] = True
    lp = linux_parameters(a)
    if lp:
        container["linuxParameters"] = lp
    body = {"type": "container", "containerProperties": container, "retryStrategy": {"attempts": 1},
            "propagateTags": True, "tags": {"flowc:flow": a.flow}, "platformCapabilities": ["EC2"]}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    flow = re.sub(r"[^A-Za-z0-9_-]", "-", a.flow.lower())
    return {"jobDefinitionName": "flowc-%s-%s" % (flow, digest), **body}


def ensure_job_definition(batch, definition: dict) -> str:
    name = definition["jobDefinitionName"]
    found = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE").get("jobDefinitions", [])
    if found:
        return max(found, key=lambda d: d.get("revision", 0))["jobDefinitionArn"]
    print("[batch-submit] registering job definition %s" % name, flush=True)
    return batch.register_job_definition(**definition)["jobDefinitionArn"]


def submit(batch, a, task, definition_arn: str) -> str:
    step = task_option(task, "--step", "step")
    index = task_option(task, "--index-path", "") or ""
    run_id = task_option(task, "--run-id", "run")
    name = re.sub(r"[^A-Za-z0-9_-]", "-", "%s-%s-%s-%s" % (a.flow, run_id, step, index.replace(",", "-")))[:128]
    argv = [x for x in task]
    if "--output-dir" in argv:        # the job's files stay in its container; outputs come from the datastore
        i = argv.index("--output-dir")
        del argv[i:i + 2]
    requirements = [{"type": "VCPU", "value": cpu_value(a.cpu)}, {"type": "MEMORY", "value": str(a.memory)}]
    if a.gpu:
        requirements.append({"type": "GPU", "value": str(a.gpu)})
    overrides = {"command": list(COMMAND_PREFIX) + argv, "resourceRequirements": requirements,
                 "environment": [{"name": k, "value": v} for k, v in (e.split("=", 1) for e in a.env)]}
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


def write_outputs(task, flow: str) -> None:
    out_dir = task_option(task, "--output-dir")
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
        arn = ensure_job_definition(batch, job_definition(a, code_url))
        job_id = submit(batch, a, task, arn)
        status = wait(batch, job_id, a.poll_seconds)
        if status != "SUCCEEDED":
            return 1
        write_outputs(task, a.flow)
        return 0
    except SubmitError as e:
        sys.stderr.write("[batch-submit] error: %s\n" % e)
        return e.code
    except Exception as e:  # AWS or the datastore unreachable
        sys.stderr.write("[batch-submit] error: %s: %s\n" % (type(e).__name__, e))
        return 3
