"""The datastore: blob format, content addressing, atomicity, crash safety, attempts."""
import json
import os
import signal
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.runtime_fixtures import Package, file_root, write_flow
from runtime_shim.datastore import (FlowDatastore, deserialize, parse_task_id, serialize,
                                    task_id_for)


def _blob(obj):
    parts, sha, size = serialize(obj)
    data = bytearray(b"".join(bytes(memoryview(p).cast("B")) for p in parts))
    assert len(data) == size
    return data, sha


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text() | st.binary(),
                    lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=30))
@settings(max_examples=60, deadline=None)
def test_roundtrip(value):
    data, sha = _blob(value)
    assert deserialize(data) == value
    assert _blob(value)[1] == sha          # deterministic


def test_numpy_out_of_band_zero_copy():
    a = np.arange(1 << 20, dtype=np.float64)
    parts, sha, size = serialize({"a": a, "b": a[::2].copy()})
    # the array's memory is one of the parts itself, not a copy
    assert any(isinstance(p, memoryview) and p.nbytes == a.nbytes for p in parts)
    data = bytearray(b"".join(bytes(memoryview(p).cast("B")) for p in parts))
    out = deserialize(data)
    assert np.array_equal(out["a"], a) and np.array_equal(out["b"], a[::2])
    assert out["a"].flags.writeable
    # loaded without a copy: the array's buffer lives inside the blob
    base = np.frombuffer(data, dtype=np.uint8)
    assert np.shares_memory(out["a"], base)


def test_compression_only_where_it_pays():
    text = "abc" * 10000
    parts, _, size = serialize(text)
    assert size < len(text) / 2                         # compressible: compressed
    rnd = os.urandom(5000)
    parts, _, size = serialize(rnd)
    assert size >= len(rnd)                             # incompressible: raw
    assert deserialize(_blob(text)[0]) == text


def test_task_ids():
    assert task_id_for([]) == "t" and task_id_for([3]) == "t-3"
    assert task_id_for([3, 1]) == "t-3-1" and task_id_for([], 2) == "t.2"
    assert task_id_for([3], 2) == "t-3.2"
    for path, it in [([], 0), ([3, 1], 0), ([], 2), ([3], 2)]:
        assert parse_task_id(task_id_for(path, it)) == (path, it)


def test_same_content_stored_once_and_concurrent_writes(tmp_path):
    ds = FlowDatastore(file_root(tmp_path), "F")
    value = {"x": np.ones(100000)}
    shas = []
    errors = []

    def work():
        try:
            shas.append(FlowDatastore(file_root(tmp_path), "F").save_artifact(value)[0])
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(shas)) == 1
    d = tmp_path / "ds" / "F" / "data" / shas[0][:2]
    assert os.listdir(d) == [shas[0]]                   # no temp files left, one blob
    assert np.array_equal(ds.load_artifact(shas[0])["x"], value["x"])


def test_concurrent_writes_across_processes(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        shas = pool.map(_save_in_process, [str(tmp_path)] * 12)
    assert len(set(shas)) == 1
    ds = FlowDatastore(file_root(tmp_path), "F")
    assert ds.load_artifact(shas[0]) == list(range(50000))


def _save_in_process(tmp):
    return FlowDatastore("file://" + os.path.join(tmp, "ds"), "F").save_artifact(
        list(range(50000)))[0]


def test_reader_sees_only_done_attempts(tmp_path):
    ds = FlowDatastore(file_root(tmp_path), "F")
    base = ds.task_key("r", "s", "t")
    ds.storage.write(base + "/attempt-0/manifest.json", [b'{"artifacts": {}, "attempt": 0}'])
    assert ds.read_manifest("r", "s", "t") is None     # manifest without DONE: not complete
    m = {"run_id": "r", "step": "s", "task_id": "t", "attempt": 1, "artifacts": {},
         "num_splits": 3, "branch": None}
    ds.write_task(m)
    assert ds.read_manifest("r", "s", "t")["attempt"] == 1
    assert json.loads(bytes(ds.storage.read(base + "/foreach.json"))) == [0, 1, 2]
    assert ds.attempts_done("r", "s", "t") == [1]


CRASH_FLOW = '''
from metaflow import FlowSpec, step

class CrashFlow(FlowSpec):
    @step
    def start(self):
        import numpy as np
        self.big = np.ones(4 << 20)
        self.small = "x"
        self.next(self.end)

    @step
    def end(self):
        assert self.big.sum() == 4 << 20
'''


@pytest.mark.parametrize("point", ["blob", "manifest", "before_done"])
def test_sigkill_while_writing_leaves_no_torn_task(tmp_path, point):
    from runtime_shim.client import Run, Step

    pkg = Package(write_flow(tmp_path, CRASH_FLOW), tmp_path)
    root = file_root(tmp_path)
    r = pkg.task(root, "r1", "start", env={"FLOWC_TEST_CRASH_AT": point})
    assert r.returncode == -signal.SIGKILL, r.stderr
    ds = FlowDatastore(root, "CrashFlow")
    assert ds.read_manifest("r1", "start", "t") is None
    run = Run("CrashFlow/r1", datastore=root)
    assert Step("CrashFlow/r1/start", datastore=root).tasks() == [] and not run.successful
    # the next step refuses to start: its input is not complete
    r = pkg.task(root, "r1", "end")
    assert r.returncode == 2 and "not complete" in r.stderr
    # the engine's next attempt succeeds, and the flow completes
    r = pkg.task(root, "r1", "start", attempt=1)
    assert r.returncode == 0, r.stderr
    assert pkg.task(root, "r1", "end").returncode == 0
    assert Run("CrashFlow/r1", datastore=root)["start"].task.attempt == 1
    # no temporary files are visible as artifacts
    for dirpath, _dirs, files in os.walk(tmp_path / "ds" / "CrashFlow" / "data"):
        for f in files:
            if ".tmp-" not in f:
                assert len(f) == 64


def test_attempt_is_never_overwritten(tmp_path):
    pkg = Package(write_flow(tmp_path, CRASH_FLOW), tmp_path)
    root = file_root(tmp_path)
    assert pkg.task(root, "r1", "start").returncode == 0
    r = pkg.task(root, "r1", "start")
    assert r.returncode == 2 and "already complete" in r.stderr


def test_task_cli_errors(tmp_path):
    pkg = Package(write_flow(tmp_path, CRASH_FLOW), tmp_path)
    root = file_root(tmp_path)
    assert pkg.task(root, "r1", "nosuchstep").returncode == 2
    assert pkg.task(root, "bad/run", "start").returncode == 2
    assert pkg.task(root, "r1", "start", index_path=(1,)).returncode == 2
    assert pkg.task(root, "r1", "start", params={"nope": "1"}).returncode == 2
    r = pkg.task("file:///proc/forbidden-root", "r1", "start")
    assert r.returncode == 3, r.stderr


def test_output_files(tmp_path):
    pkg = Package(write_flow(tmp_path, '''
from metaflow import FlowSpec, step

class OutFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.k = "b" if self.input > 1 else "a"
        self.next({"a": self.a, "b": self.b}, condition="k")

    @step
    def a(self):
        self.next(self.j)

    @step
    def b(self):
        self.next(self.j)

    @step
    def j(self, inputs):
        self.ks = [i.k for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.ks == ["a", "b", "b"]
'''), tmp_path)
    root = file_root(tmp_path)
    out = tmp_path / "out"
    assert pkg.task(root, "r", "start", output_dir=out).returncode == 0
    assert (out / "num_splits").read_text() == "3" and (out / "task_id").read_text() == "t"
    for i in range(3):
        o = tmp_path / ("o%d" % i)
        assert pkg.task(root, "r", "body", index_path=(i,), output_dir=o).returncode == 0
        branch = (o / "branch").read_text()
        assert branch == ("b" if i else "a")
        assert (o / "task_id").read_text() == "t-%d" % i
        ds = FlowDatastore(root, "OutFlow")
        assert json.loads(bytes(ds.storage.read(ds.task_key("r", "body", "t-%d" % i)
                                                + "/switch.json"))) == {"branch": branch}
        assert pkg.task(root, "r", branch, index_path=(i,)).returncode == 0
    assert pkg.task(root, "r", "j").returncode == 0
    assert pkg.task(root, "r", "end").returncode == 0
