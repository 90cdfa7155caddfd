"""Run-time semantics every engine shares (they all run this runtime): a foreach over zero items is
an error as in Metaflow, and a finished run's id is never reused."""
from __future__ import annotations

from tests.runtime_fixtures import Package, file_root, run, write_flow

EMPTY_FOREACH = '''
from metaflow import FlowSpec, step

class Empty(FlowSpec):
    @step
    def start(self):
        self.items = []
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        print("END RAN")
'''

HELLO = '''
from metaflow import FlowSpec, step

class Hello(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        print("END", self.x)
'''


def test_foreach_over_zero_items_fails_the_run(tmp_path):
    flow = write_flow(tmp_path, EMPTY_FOREACH)
    code, _, out = run(flow, datastore=file_root(tmp_path))
    assert code == 1
    assert "Foreach iterator over items in step start produced zero splits" in out
    assert "END RAN" not in out


def test_zero_splits_is_raised_by_self_next_so_the_start_task_fails(tmp_path):
    flow = write_flow(tmp_path, EMPTY_FOREACH)
    pkg = Package(flow, tmp_path)
    proc = pkg.task(file_root(tmp_path), "r1", "start", params={})
    assert proc.returncode == 1
    assert "InvalidNextException: Foreach iterator over items in step start produced zero splits" in proc.stderr


def test_start_of_a_finished_run_id_is_refused(tmp_path):
    flow = write_flow(tmp_path, HELLO)
    root = file_root(tmp_path)
    code, rid, out = run(flow, datastore=root, run_id="same-id")
    assert code == 0 and "END 1" in out
    pkg = Package(flow, tmp_path)
    proc = pkg.task(root, "same-id", "start", params={}, attempt=1)
    assert proc.returncode == 2
    assert "run Hello/same-id already finished (its end step completed); a new run needs a new run id" in proc.stderr
    # an unfinished run (start done, end not) is not refused: a retried start reports its result
    proc = pkg.task(root, "other-id", "start", params={})
    assert proc.returncode == 0, proc.stderr
    proc = pkg.task(root, "other-id", "start", params={}, attempt=1)
    assert proc.returncode == 0 and "already completed the task" in proc.stderr
