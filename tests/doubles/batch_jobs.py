"""Run one Batch job's container command locally, as strictly as a fresh container would.

Used by the moto Batch doubles (tests/stepfunctions/moto_sfn.py, tests/argo_executor/moto_batch.py):
- the interpreter is `python` of the job's IMAGE: the stdlib-only venv of tests/stdlib_python.py
  (the default `python:3.11` has nothing else), unless the test declares the image in
  `JobSettings.images` (image -> interpreter, e.g. sys.executable for an image with numpy);
- a fresh empty working directory, TMPDIR and FLOWC_CODE_CACHE per job (no code package cached by
  an earlier job), HOME in it; nothing of the test process's Python environment leaks in;
- AWS credentials: static test keys, or, when `JobSettings.credentials` is set, what the job gets
  from tests/doubles/credentials.py (container endpoint, Pod Identity, IRSA, IMDSv2): the five
  sources (static keys included) in turn, job after job, so any five jobs cover them all;
- S3 through `JobSettings.s3_endpoint` when set: a tests/doubles/sigv4.py verifier in front of
  moto, so every request a task sends is signature-checked.
"""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

from tests.stdlib_python import clean_env, interpreter_for, task_sandbox

STATIC_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
SOURCES = ("static", "container", "pod-identity", "web-identity", "imds")
_CHAIN = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
          "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT")


@dataclass
class JobSettings:
    images: dict[str, str] = field(default_factory=dict)   # image -> interpreter (declared by tests)
    credentials: Any = None            # a CredentialsDouble, or None for static keys
    s3_endpoint: str | None = None     # the signature-verifying S3 endpoint
    root: str | None = None            # where job sandboxes are made (default: a temp dir)
    keep: bool = False                 # keep sandboxes after the job (debugging)
    ran: list = field(default_factory=list)   # {name, source, python} per job, in start order
    _turn: Any = field(default_factory=lambda: itertools.count())

    def next_source(self) -> str:
        if self.credentials is None:
            return "static"
        return SOURCES[next(self._turn) % len(SOURCES)]


def run_container(settings: JobSettings, name: str, image: str | None, command: list[str],
                  env: dict[str, str], timeout: float | None):
    """(exit code, stdout, stderr) of the job's command run as a fresh container would run it."""
    command = list(command)
    if command and command[0] == "python":
        command[0] = interpreter_for(image, settings.images)
    root = settings.root or os.path.join(tempfile.gettempdir(), "flowc-batch-jobs")
    os.makedirs(root, exist_ok=True)
    box = task_sandbox(root, name)
    job_env = {k: v for k, v in env.items() if k not in _CHAIN}
    job_env.update(box.env)
    job_env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    job_env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    job_env["AWS_EC2_METADATA_DISABLED"] = "true"
    source = settings.next_source()
    settings.ran.append({"name": name, "source": source, "python": command[0] if command else None})
    if source == "static":
        job_env.update(STATIC_KEYS)
    else:
        job_env.update(settings.credentials.env(source, box.tmpdir))
        if source == "imds":   # a loaded test machine is slower than an EC2 host's metadata service
            job_env.update(AWS_EC2_METADATA_DISABLED="false", AWS_METADATA_SERVICE_TIMEOUT="10")
    if settings.s3_endpoint:
        job_env["AWS_ENDPOINT_URL_S3"] = settings.s3_endpoint
    try:
        proc = subprocess.run(command, env=clean_env(job_env), cwd=box.cwd, capture_output=True, text=True,
                              timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        err = expired.stderr.decode() if isinstance(expired.stderr, bytes) else (expired.stderr or "")
        return 137, out, err + "\n[killed: Batch timeout]"
    finally:
        if not settings.keep:
            shutil.rmtree(os.path.dirname(box.cwd), ignore_errors=True)
