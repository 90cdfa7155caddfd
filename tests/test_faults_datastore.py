"""Datastore faults: a task killed (SIGKILL) at every kill point of its artifact write that the
runtime offers (runtime_shim.datastore.CRASH_POINTS) leaves either the previous state or the
complete new one, on file:// and s3:// (moto); two attempts of one task racing each other leave
exactly one visible result whose split record (foreach.json, read by the engines) agrees with it.
S3 throttling (503 SlowDown) and 500s injected by a proxy in front of moto are retried and a
`flowc run` through it completes (see FaultProxy)."""
from __future__ import annotations

import json
import os
import threading

import pytest

from runtime_shim.datastore import CRASH_POINTS, FlowDatastore
from tests.runtime_fixtures import Package, write_flow

FLOW = '''
import os
from metaflow import FlowSpec, step


class CrashFlow(FlowSpec):
    @step
    def start(self):
        self.value = os.environ.get("VALUE", "none")
        self.big = os.environ.get("VALUE", "none") * 5000      # a compressed blob
        self.items = list(range(int(os.environ.get("N", "3"))))
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.x = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.xs = [i.x for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.fixture(params=["file", "s3"])
def root(request, tmp_path):
    if request.param == "file":
        return "file://" + str(tmp_path / "ds")
    return request.getfixturevalue("s3_root")


def visible(root, run_id, step="start", task="t"):
    """What a reader sees: None, or (value, num_splits) after checking the task is whole: every
    artifact blob loads, and foreach.json (what the engines read) agrees with the manifest."""
    ds = FlowDatastore(root, "CrashFlow")
    m = ds.read_manifest(run_id, step, task)
    if m is None:
        return None
    values = {name: ds.load_artifact(a["sha"]) for name, a in m["artifacts"].items()}
    assert values["big"] == values["value"] * 5000
    assert values["items"] == list(range(m["num_splits"]))
    raw = ds.storage.read("CrashFlow/runs/%s/%s/%s/foreach.json" % (run_id, step, task))
    assert raw is not None and json.loads(bytes(raw)) == list(range(m["num_splits"])), \
        "foreach.json disagrees with the visible manifest"
    return values["value"], m["num_splits"]


@pytest.fixture(scope="module")
def pkg(tmp_path_factory):
    d = tmp_path_factory.mktemp("crashpkg")
    return Package(write_flow(d, FLOW), d)


KILLS: list[str] = []


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_every_point_leaves_old_or_new(pkg, root, point):
    # 1. first attempt killed: nothing visible, or (after DONE) the complete new result
    r = pkg.task(root, "r1", "start", attempt=0, env={"FLOWC_TEST_CRASH_AT": point, "VALUE": "new", "N": "4"})
    assert r.returncode == -9, (r.returncode, r.stderr)
    KILLS.append(point)
    seen = visible(root, "r1")
    assert seen in (None, ("new", 4)) and (seen is not None) == (point == "after_done"), seen
    # the engine retries: the run goes on with one complete result
    r = pkg.task(root, "r1", "start", attempt=1, env={"VALUE": "new", "N": "4"})
    assert r.returncode == 0, r.stderr
    assert visible(root, "r1") == ("new", 4)

    # 2. a complete earlier attempt, then a later attempt (different result) killed at the point
    r = pkg.task(root, "r2", "start", attempt=0, env={"VALUE": "old", "N": "2"})
    assert r.returncode == 0, r.stderr
    r = pkg.task(root, "r2", "start", attempt=1, env={"FLOWC_TEST_CRASH_AT": point, "VALUE": "new", "N": "5"})
    assert r.returncode in (-9, 0), (r.returncode, r.stderr)
    assert visible(root, "r2") in (("old", 2), ("new", 5))


def test_racing_attempts_leave_one_result(pkg, root):
    """Two attempts of the same task at once (a retry started while a presumed-dead pod still
    runs, or one attempt dispatched twice), with different results: exactly one visible result,
    consistent with its split record, and the run continues from it."""
    for round_, attempts in enumerate([(0, 1), (0, 0), (1, 0)]):
        run_id = "race%d" % round_
        results = {}

        def go(i, attempt):
            results[i] = pkg.task(root, run_id, "start", attempt=attempt,
                                  env={"VALUE": "v%d" % i, "N": str(2 + i)})
        threads = [threading.Thread(target=go, args=(i, a)) for i, a in enumerate(attempts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert any(r.returncode == 0 for r in results.values()), [r.stderr for r in results.values()]
        seen = visible(root, run_id)
        assert seen in (("v0", 2), ("v1", 3)), seen
        n = seen[1]
        for i in range(n):
            r = pkg.task(root, run_id, "each", index_path=(i,))
            assert r.returncode == 0, r.stderr
        r = pkg.task(root, run_id, "join")
        assert r.returncode == 0, r.stderr
        m = FlowDatastore(root, "CrashFlow").read_manifest(run_id, "join", "t")
        assert FlowDatastore(root, "CrashFlow").load_artifact(m["artifacts"]["xs"]["sha"]) == list(range(n))
