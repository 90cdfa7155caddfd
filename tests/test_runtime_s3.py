"""The S3 datastore against a moto server over real HTTP."""
import os

import numpy as np

from tests.runtime_fixtures import SHARED_VALID, Package, run, write_flow
from runtime_shim.datastore import FlowDatastore


def test_s3_blob_roundtrip_and_dedup(s3_root):
    ds = FlowDatastore(s3_root, "F")
    a = np.arange(100000, dtype=np.int32)
    sha, size = ds.save_artifact({"a": a})
    assert ds.save_artifact({"a": a})[0] == sha
    assert np.array_equal(ds.load_artifact(sha)["a"], a)
    keys = ds.storage.list_recursive("F/data")
    assert keys == ["%s/%s" % (sha[:2], sha)]


def test_s3_large_blob_multipart(s3_root):
    ds = FlowDatastore(s3_root, "F")
    a = np.random.default_rng(0).random(9 << 20)          # 72 MiB: multipart upload path
    sha, size = ds.save_artifact(a)
    assert size > 64 << 20
    assert np.array_equal(ds.load_artifact(sha), a)


def test_s3_manifest_visibility(s3_root):
    ds = FlowDatastore(s3_root, "F")
    base = ds.task_key("r", "s", "t-0")
    ds.storage.write(base + "/attempt-0/manifest.json", [b"{}"])
    assert ds.read_manifest("r", "s", "t-0") is None
    ds.write_task({"run_id": "r", "step": "s", "task_id": "t-0", "attempt": 1, "artifacts": {},
                   "num_splits": None, "branch": "x"})
    assert ds.read_manifest("r", "s", "t-0")["attempt"] == 1
    assert ds.attempts_done("r", "s", "t-0") == [1]
    assert bytes(ds.storage.read(base + "/switch.json")) == b'{"branch": "x"}'
    assert ds.list_tasks("r", "s") == ["t-0"]


def test_flow_runs_on_s3(s3_root):
    from runtime_shim.client import Run

    code, rid, out = run(os.path.join(SHARED_VALID, "nested_foreach.py"), datastore=s3_root)
    assert code == 0, out
    r = Run("NestedForeachFlow/" + rid, datastore=s3_root)
    assert r.successful
    assert r.data.all_labels == ["a1", "a2", "b1", "b2", "c1", "c2"]
    assert [t.id for t in r["per_number"]] == ["t-0-0", "t-0-1", "t-1-0", "t-1-1", "t-2-0",
                                               "t-2-1"]
    ds = FlowDatastore(s3_root, "NestedForeachFlow")
    assert any(k.endswith(".zip") for k in ds.storage.list_recursive("NestedForeachFlow/code"))


def test_s3_crash_then_retry(tmp_path, s3_root):
    from runtime_shim.client import Step

    pkg = Package(write_flow(tmp_path, '''
from metaflow import FlowSpec, step

class S3CrashFlow(FlowSpec):
    @step
    def start(self):
        self.x = list(range(1000))
        self.next(self.end)

    @step
    def end(self):
        assert len(self.x) == 1000
'''), tmp_path)
    r = pkg.task(s3_root, "r", "start", env={"FLOWC_TEST_CRASH_AT": "before_done"})
    assert r.returncode < 0
    assert Step("S3CrashFlow/r/start", datastore=s3_root).tasks() == []
    assert pkg.task(s3_root, "r", "start", attempt=1).returncode == 0
    assert pkg.task(s3_root, "r", "end").returncode == 0
    assert Step("S3CrashFlow/r/start", datastore=s3_root).task.attempt == 1
