"""The datastore: content-addressed artifact blobs plus per-attempt task manifests.

Layout (see docs/runtime-contract.md):

    <Flow>/data/<sha[:2]>/<sha>                                   artifact blobs, written once
    <Flow>/code/<sha>.zip                                         code packages
    <Flow>/runs/<run>/<step>/<task>/attempt-<n>/manifest.json
    <Flow>/runs/<run>/<step>/<task>/attempt-<n>/DONE              written last
    <Flow>/runs/<run>/<step>/<task>/foreach.json | switch.json
    <Flow>/runs/<run>/<step>/<task>/attempt-<n>/logs/stdout.<k> | stderr.<k>   chunks, in order
    <Flow>/runs/<run>/<step>/<task>/attempt-<n>/failure.json      a failed attempt's exception
    <Flow>/runmeta/<run>/options.json                             tags, origin run (resume)

Roots: ``file:///abs/path`` (atomic writes: temp file + os.replace) and ``s3://bucket/prefix``
(runtime_shim.s3lite on the standard library; boto3 only for credential sources it alone reads).

Blob format (all integers little endian):

    b"FLOWC1" | flags:u8 | nbuf:u32 | pickle_len:u64 | nbuf * buf_len:u64 | pickle | (pad to 64, buf)*

flags bit 0: the pickle part is zlib-compressed. Buffers are pickle protocol 5 out-of-band buffers
(numpy arrays and the like), stored raw and loaded zero-copy from one bytearray.
The blob's name is the sha256 of all its bytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import sys
from typing import List

MAGIC = b"FLOWC1"
_ALIGN = 64
COMPRESS_MAX = 4 << 20          # try zlib only for in-band pickles up to this size
COMPRESS_MIN = 256              # not worth it below this
COMPRESS_GAIN = 0.8             # keep the compressed form only if it saves > 20%


_RUN_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"


class DatastoreError(Exception):
    """The datastore could not be read or written (exit code 3 in a task)."""


# Every point where FLOWC_TEST_CRASH_AT can kill a task during its artifact write, in order:
# mid-blob, mid-manifest, after the manifest (before foreach.json / switch.json), after those
# (before DONE), after DONE (before the task's output files and exit).
CRASH_POINTS = ("blob", "manifest", "split_record", "before_done", "after_done")


def _crash_point(name: str) -> None:
    """Test hook: FLOWC_TEST_CRASH_AT=<name> kills this process with SIGKILL at that point."""
    if os.environ.get("FLOWC_TEST_CRASH_AT") == name:
        import signal

        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# serialization


def serialize(obj) -> tuple[list, str, int]:
    """Return (parts, sha256 hex, total size); parts are bytes-like, in blob order."""
    buffers: list = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    flags = 0
    if not buffers and COMPRESS_MIN <= len(data) <= COMPRESS_MAX:
        import zlib

        packed = zlib.compress(data, 1)
        if len(packed) < len(data) * COMPRESS_GAIN:
            data, flags = packed, 1
    raws = [b.raw() for b in buffers]
    header = bytearray(MAGIC)
    header += struct.pack("<BIQ", flags, len(raws), len(data))
    for r in raws:
        header += struct.pack("<Q", r.nbytes)
    parts: list = [bytes(header), data]
    offset = len(header) + len(data)
    for r in raws:
        pad = (-offset) % _ALIGN
        if pad:
            parts.append(b"\0" * pad)
            offset += pad
        parts.append(r)
        offset += r.nbytes
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return parts, h.hexdigest(), offset


def deserialize(blob):
    """Inverse of serialize; `blob` should be a bytearray so buffers load writable, zero-copy."""
    mv = memoryview(blob)
    if bytes(mv[:6]) != MAGIC:
        raise DatastoreError("not a flowc artifact blob")
    flags, nbuf, plen = struct.unpack_from("<BIQ", mv, 6)
    pos = 6 + struct.calcsize("<BIQ")
    lens = struct.unpack_from("<%dQ" % nbuf, mv, pos) if nbuf else ()
    pos += 8 * nbuf
    data = mv[pos:pos + plen]
    pos += plen
    bufs = []
    for n in lens:
        pos += (-pos) % _ALIGN
        bufs.append(mv[pos:pos + n])
        pos += n
    if flags & 1:
        import zlib

        data = zlib.decompress(data)
    return pickle.loads(data, buffers=bufs)


# --------------------------------------------------------------------------------------------
# storage backends: keys are '/'-separated paths relative to the root


class FileStorage:
    def __init__(self, path: str):
        self.root = path

    def _p(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def exists(self, key: str) -> bool:
        return os.path.exists(self._p(key))

    def read(self, key: str):
        """Return the bytes at key as a bytearray, or None."""
        try:
            with open(self._p(key), "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                buf = bytearray(size)
                view = memoryview(buf)
                got = 0
                while got < size:
                    n = f.readinto(view[got:])
                    if not n:
                        break
                    got += n
                return buf if got == size else buf[:got]
        except FileNotFoundError:
            return None

    def write(self, key: str, parts, if_absent: bool = False, crash: str | None = None) -> bool:
        """Write atomically (temp file + os.replace). Returns False if skipped (if_absent)."""
        path = self._p(key)
        if if_absent and os.path.exists(path):
            return False
        d = os.path.dirname(path)
        os.makedirs(d, exist_ok=True)
        tmp = "%s.tmp-%d-%s" % (path, os.getpid(), os.urandom(4).hex())
        try:
            with open(tmp, "wb", buffering=0) as f:
                for i, p in enumerate(parts):
                    mv = memoryview(p).cast("B")
                    done = 0
                    while done < len(mv):
                        done += f.write(mv[done:done + (1 << 28)])
                    if crash and i == 0:
                        _crash_point(crash)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return True

    def list(self, prefix: str) -> list[str]:
        """Names directly under the directory `prefix` (no trailing slash)."""
        try:
            return sorted(n for n in os.listdir(self._p(prefix)) if ".tmp-" not in n)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def list_recursive(self, prefix: str) -> "List[str]":   # typing.List: `list` is a method here
        base = self._p(prefix)
        out = []
        for dirpath, _dirs, files in os.walk(base):
            rel = os.path.relpath(dirpath, base)
            for f in files:
                if ".tmp-" in f:
                    continue
                out.append(f if rel == "." else "/".join(rel.split(os.sep) + [f]))
        return sorted(out)


class S3Storage:
    def __init__(self, bucket: str, prefix: str):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = None
        self._lite = False          # not looked up yet

    @property
    def lite(self):
        """The stdlib client (runtime_shim.s3lite) when this environment allows it, else None:
        a task then never pays for importing boto3 on its hot path."""
        if self._lite is False:
            from runtime_shim import awslite, s3lite

            try:
                self._lite = s3lite.client()
            except (awslite.NoCredentials, OSError, ValueError, KeyError) as e:
                raise DatastoreError("cannot reach s3://%s: %s" % (self.bucket, e)) from None
        return self._lite

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3", config=Config(retries={"mode": "standard", "max_attempts": 10}))
        return self._client

    def _k(self, key: str) -> str:
        return "%s/%s" % (self.prefix, key) if self.prefix else key

    def _missing(self, e) -> bool:
        code = str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def exists(self, key: str) -> bool:
        if self.lite is not None:
            return self.lite.head(self.bucket, self._k(key))
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._k(key))
            return True
        except ClientError as e:
            if self._missing(e):
                return False
            raise

    def read(self, key: str):
        if self.lite is not None:
            return self.lite.get(self.bucket, self._k(key))
        from botocore.exceptions import ClientError

        try:
            r = self.client.get_object(Bucket=self.bucket, Key=self._k(key))
        except ClientError as e:
            if self._missing(e):
                return None
            raise
        size = r.get("ContentLength")
        body = r["Body"]
        if size is None:
            return bytearray(body.read())
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            chunk = body.read(min(8 << 20, size - got))
            if not chunk:
                break
            view[got:got + len(chunk)] = chunk
            got += len(chunk)
        return buf

    def write(self, key: str, parts, if_absent: bool = False, crash: str | None = None) -> bool:
        if if_absent and self.exists(key):
            return False
        total = sum(memoryview(p).nbytes for p in parts)
        if crash:
            _crash_point(crash)
        if total <= (64 << 20) or self.lite is not None:
            body = b"".join(bytes(p) if not isinstance(p, (bytes, bytearray)) else p for p in parts)
            if self.lite is not None:
                self.lite.put(self.bucket, self._k(key), body)
            else:
                self.client.put_object(Bucket=self.bucket, Key=self._k(key), Body=body)
        else:
            import tempfile

            with tempfile.NamedTemporaryFile(prefix="flowc-up-") as f:
                for p in parts:
                    f.write(p)
                f.flush()
                self.client.upload_file(f.name, self.bucket, self._k(key))
        return True

    def list(self, prefix: str) -> list[str]:
        out = set()
        pre = self._k(prefix).rstrip("/") + "/"
        if self.lite is not None:
            keys, prefixes = self.lite.list(self.bucket, pre, delimiter="/")
            return sorted({p[len(pre):].rstrip("/") for p in prefixes} | {k[len(pre):] for k in keys})
        paginator = self.client.get_paginator("list_objects_v2")
        pre = self._k(prefix).rstrip("/") + "/"
        for page in paginator.paginate(Bucket=self.bucket, Prefix=pre, Delimiter="/"):
            for c in page.get("CommonPrefixes", []):
                out.add(c["Prefix"][len(pre):].rstrip("/"))
            for o in page.get("Contents", []):
                out.add(o["Key"][len(pre):])
        return sorted(out)

    def list_recursive(self, prefix: str) -> "List[str]":   # typing.List: `list` is a method here
        out = []
        if self.lite is not None:
            pre = self._k(prefix).rstrip("/") + "/"
            return sorted(k[len(pre):] for k in self.lite.list(self.bucket, pre)[0])
        paginator = self.client.get_paginator("list_objects_v2")
        pre = self._k(prefix).rstrip("/") + "/"
        for page in paginator.paginate(Bucket=self.bucket, Prefix=pre):
            for o in page.get("Contents", []):
                out.append(o["Key"][len(pre):])
        return sorted(out)


def storage_for(root: str):
    if root.startswith("file://"):
        path = root[len("file://"):]
        if not path.startswith("/"):
            raise DatastoreError("file:// datastore roots must be absolute: %r" % root)
        return FileStorage(path)
    if root.startswith("s3://"):
        rest = root[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise DatastoreError("no bucket in %r" % root)
        return S3Storage(bucket, prefix)
    if root.startswith("/"):
        return FileStorage(root)
    raise DatastoreError("unsupported datastore root %r (use file:///abs/path or s3://bucket/prefix)"
                         % root)


# --------------------------------------------------------------------------------------------
# the flow datastore


def task_id_for(index_path, iteration: int = 0) -> str:
    return "t" + "".join("-%d" % i for i in index_path) + (".%d" % iteration if iteration else "")


def parse_task_id(task_id: str) -> tuple[list[int], int]:
    if not task_id.startswith("t"):
        raise ValueError("bad task id %r" % task_id)
    body, _, it = task_id[1:].partition(".")
    path = [int(x) for x in body.split("-")[1:]] if body else []
    return path, int(it) if it else 0


class FlowDatastore:
    """Artifacts and task records of one flow under a root URI."""

    def __init__(self, root: str, flow_name: str):
        self.root = root
        self.flow_name = flow_name
        self.storage = storage_for(root)

    # ---- blobs
    def blob_key(self, sha: str) -> str:
        return "%s/data/%s/%s" % (self.flow_name, sha[:2], sha)

    def save_artifact(self, obj) -> tuple[str, int]:
        parts, sha, size = serialize(obj)
        self.storage.write(self.blob_key(sha), parts, if_absent=True, crash="blob")
        return sha, size

    def load_artifact(self, sha: str):
        blob = self.storage.read(self.blob_key(sha))
        if blob is None:
            raise DatastoreError("missing artifact blob %s" % sha)
        return deserialize(blob)

    # ---- tasks
    def task_key(self, run_id: str, step: str, task_id: str) -> str:
        return "%s/runs/%s/%s/%s" % (self.flow_name, run_id, step, task_id)

    def attempts_done(self, run_id: str, step: str, task_id: str) -> list[int]:
        """Attempt numbers that have a DONE marker, ascending."""
        base = self.task_key(run_id, step, task_id)
        if isinstance(self.storage, S3Storage):
            names = self.storage.list_recursive(base)
            done = [n.split("/")[0] for n in names if n.endswith("/DONE")]
        else:
            done = [n for n in self.storage.list(base)
                    if n.startswith("attempt-") and self.storage.exists(base + "/" + n + "/DONE")]
        out = []
        for n in done:
            try:
                out.append(int(n[len("attempt-"):]))
            except ValueError:
                pass
        return sorted(out)

    def attempt_done(self, run_id, step, task_id, attempt) -> bool:
        return self.storage.exists("%s/attempt-%d/DONE" % (self.task_key(run_id, step, task_id),
                                                          attempt))

    def read_manifest(self, run_id: str, step: str, task_id: str):
        """The manifest of the highest completed attempt, or None if the task is not complete."""
        done = self.attempts_done(run_id, step, task_id)
        if not done:
            return None
        raw = self.storage.read("%s/attempt-%d/manifest.json"
                                % (self.task_key(run_id, step, task_id), done[-1]))
        if raw is None:
            return None
        return json.loads(bytes(raw))

    def write_task(self, manifest: dict) -> None:
        """Write the manifest, the split/switch records, then DONE (last)."""
        base = self.task_key(manifest["run_id"], manifest["step"], manifest["task_id"])
        att = "%s/attempt-%d" % (base, manifest["attempt"])
        self.storage.write(att + "/manifest.json",
                           [json.dumps(manifest, sort_keys=True).encode()], crash="manifest")
        _crash_point("split_record")
        if manifest.get("num_splits") is not None:
            self.storage.write(base + "/foreach.json",
                               [json.dumps(list(range(manifest["num_splits"]))).encode()])
        if manifest.get("branch") is not None:
            self.storage.write(base + "/switch.json",
                               [json.dumps({"branch": manifest["branch"]}).encode()])
        _crash_point("before_done")
        self.storage.write(att + "/DONE", [b"ok"])
        _crash_point("after_done")
        if manifest.get("num_splits") is not None or manifest.get("branch") is not None:
            self.publish_records(manifest["run_id"], manifest["step"], manifest["task_id"], manifest)

    def publish_records(self, run_id: str, step: str, task_id: str, written: dict | None = None):
        """Make foreach.json / switch.json agree with the visible manifest (highest DONE attempt)
        and return that manifest. Attempts of one task that raced (or a later attempt killed
        between its records and DONE) may have left the records of a result that is not the
        visible one; every attempt calls this after its DONE (and a retry of a complete task
        before it exits), re-reading until what it wrote is still what is visible, so the last
        writer always leaves the records of the final visible result."""
        base = self.task_key(run_id, step, task_id)
        m = None
        for _ in range(20):
            m = self.read_manifest(run_id, step, task_id)
            if m is None:
                return None
            # check what is stored rather than trust what this attempt wrote: a racing attempt may
            # have overwritten the records after it, before its own DONE
            if self._records_agree(base, m):
                if self.read_manifest(run_id, step, task_id) == m:
                    return m
                continue
            if m.get("num_splits") is not None:
                self.storage.write(base + "/foreach.json",
                                   [json.dumps(list(range(m["num_splits"]))).encode()])
            if m.get("branch") is not None:
                self.storage.write(base + "/switch.json", [json.dumps({"branch": m["branch"]}).encode()])
        return m

    def _records_agree(self, base: str, m: dict) -> bool:
        for name, want, needed in (("foreach.json", list(range(m.get("num_splits") or 0)), m.get("num_splits") is not None),
                                   ("switch.json", {"branch": m.get("branch")}, m.get("branch") is not None)):
            if not needed:
                continue
            raw = self.storage.read(base + "/" + name)
            try:
                if raw is None or json.loads(bytes(raw)) != want:
                    return False
            except ValueError:
                return False
        return True

    # ---- per-attempt records besides the manifest: logs and the failure record
    def attempt_key(self, run_id: str, step: str, task_id: str, attempt: int) -> str:
        return "%s/attempt-%d" % (self.task_key(run_id, step, task_id), attempt)

    def attempts(self, run_id: str, step: str, task_id: str) -> list[int]:
        """Every attempt that left anything (logs, a failure record, a manifest), ascending."""
        out = []
        for n in self.storage.list(self.task_key(run_id, step, task_id)):
            if n.startswith("attempt-") and n[len("attempt-"):].isdigit():
                out.append(int(n[len("attempt-"):]))
        return sorted(out)

    def write_log_chunk(self, run_id, step, task_id, attempt, stream: str, number: int, data) -> None:
        key = "%s/logs/%s.%06d" % (self.attempt_key(run_id, step, task_id, attempt), stream, number)
        self.storage.write(key, [data])

    def log_chunks(self, run_id, step, task_id, attempt, stream: str, start: int = 0):
        """(number, bytes) of each stored chunk of one attempt's stream from `start`, in order; one
        chunk in memory at a time (a huge log is read as it is written: in chunks)."""
        base = "%s/logs" % self.attempt_key(run_id, step, task_id, attempt)
        numbers = sorted(int(n.split(".")[1]) for n in self.storage.list(base)
                         if n.startswith(stream + ".") and n.split(".")[1].isdigit())
        for number in numbers:
            if number < start:
                continue
            data = self.storage.read("%s/%s.%06d" % (base, stream, number))
            if data is not None:
                yield number, bytes(data)

    def write_failure(self, run_id, step, task_id, attempt, record: dict) -> None:
        self.storage.write(self.attempt_key(run_id, step, task_id, attempt) + "/failure.json",
                           [json.dumps(record, sort_keys=True).encode()])

    def read_failure(self, run_id, step, task_id, attempt):
        raw = self.storage.read(self.attempt_key(run_id, step, task_id, attempt) + "/failure.json")
        return json.loads(bytes(raw)) if raw is not None else None

    # ---- run-level records, outside runs/ so that they never look like a step: who started the
    # run and how (tags, the origin of a resumed run), written before its first task starts
    def run_options_key(self, run_id: str) -> str:
        return "%s/runmeta/%s/options.json" % (self.flow_name, run_id)

    def write_run_options(self, run_id: str, options: dict) -> None:
        if not run_id or run_id in (".", "..") or run_id.strip(_RUN_ID_CHARS):
            raise DatastoreError("bad run id %r: use [A-Za-z0-9._-]+" % run_id)
        self.storage.write(self.run_options_key(run_id), [json.dumps(options, sort_keys=True).encode()])

    def read_run_options(self, run_id: str) -> dict:
        raw = self.storage.read(self.run_options_key(run_id))
        if raw is None:
            return {}
        try:
            value = json.loads(bytes(raw))
        except ValueError:
            raise DatastoreError("run options of %s are not JSON" % run_id) from None
        return value if isinstance(value, dict) else {}

    def list_runs(self) -> list[str]:
        return self.storage.list("%s/runs" % self.flow_name)

    def list_steps(self, run_id: str) -> list[str]:
        return self.storage.list("%s/runs/%s" % (self.flow_name, run_id))

    def list_tasks(self, run_id: str, step: str) -> list[str]:
        return self.storage.list("%s/runs/%s/%s" % (self.flow_name, run_id, step))

    def save_code(self, data: bytes, sha: str) -> str:
        key = "%s/code/%s.zip" % (self.flow_name, sha)
        self.storage.write(key, [data], if_absent=True)
        return key
