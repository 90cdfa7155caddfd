"""Run ids of `flowc run`: validated, and claimed atomically so two runs can never share one.

A run id is one path segment of every datastore key (`<Flow>/runs/<run id>/...`), so it may hold
only [A-Za-z0-9._-], is not `.` or `..` and is at most 128 characters (FC530). Claiming writes
`<Flow>/meta/<run id>/claim.json` exactly once: O_CREAT|O_EXCL on a file datastore, a conditional
PUT (`If-None-Match: *`) on S3, which refuses the second writer with 412 (FC531). The claim lives
outside `runs/` so a reader listing a run's steps never sees it.
"""
from __future__ import annotations

import json
import os
import re
import socket
import time

_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class RunIdError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__("%s %s" % (code, message))
        self.code = code


def validate(run_id: str) -> None:
    if not _ID.fullmatch(run_id or "") or run_id in (".", ".."):
        raise RunIdError("FC530", "bad --run-id %r: use 1 to 128 of [A-Za-z0-9._-], not '.' or '..' "
                         "(`flowc explain FC530`)" % run_id)


def claim_key(flow: str, run_id: str) -> str:
    return "%s/meta/%s/claim.json" % (flow, run_id)


def claim(ds, run_id: str) -> None:
    """Claim run_id in the datastore `ds` (runtime_shim.datastore.FlowDatastore) or raise FC531."""
    from runtime_shim.datastore import FileStorage

    key = claim_key(ds.flow_name, run_id)
    body = json.dumps({"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(),
                       "time": time.time()}, sort_keys=True).encode()
    taken = RunIdError("FC531", "run %s/%s already exists in %s (`flowc explain FC531`)"
                       % (ds.flow_name, run_id, ds.root))
    if ds.list_steps(run_id):        # a run from before claims, or one an engine wrote
        raise taken
    if isinstance(ds.storage, FileStorage):
        path = ds.storage._p(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise taken from None
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        return
    from botocore.exceptions import ClientError

    storage = ds.storage
    try:
        storage.client.put_object(Bucket=storage.bucket, Key=storage._k(key), Body=body,
                                  IfNoneMatch="*")
    except ClientError as e:
        code = str(e.response.get("Error", {}).get("Code", ""))
        if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            raise taken from None
        raise


def mark_aborted(ds, run_id: str, reason: str) -> None:
    """Record that the run was stopped (runtime_shim.runstate reads it back)."""
    from runtime_shim import runstate

    runstate.mark_aborted(ds, run_id, reason)
