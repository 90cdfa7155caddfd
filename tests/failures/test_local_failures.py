"""A flow that fails in a foreach body, run locally: the failure record and logs in the datastore,
`flowc logs`, `flowc show`, then a fix of the flow and `flowc resume` (issue 14)."""
from __future__ import annotations

import os
import subprocess
import sys

from runtime_shim.client import Flow, Run
from tests.failures.flows import CLONED, RAISE_LINE, RERUN, executed_and_cloned, write

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def flowc(cwd, *args):
    env = {k: v for k, v in os.environ.items() if k != "FLOWC_DATASTORE"}
    env["PYTHONPATH"] = ROOT
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_fail_logs_show_fix_resume(tmp_path):
    flow = write(tmp_path / "flow.py", "FailFlow")
    code, out, err = flowc(tmp_path, "run", "flow.py")
    assert code == 1, err
    run_id = out.strip().splitlines()[-1]
    ds = "file://" + str(tmp_path / ".flowc")
    run = Run("FailFlow/" + run_id, datastore=ds)
    assert not run.successful and not run.finished and run.finished_at is None
    assert run.state == "failed"
    [failed] = run.failed_tasks()
    assert failed.pathspec == "FailFlow/%s/body/t-1" % run_id
    exc = failed.exception
    assert (exc.type, exc.message) == ("ValueError", "bad item 2")
    # the traceback names the user's file (relative to the flow's folder, as on Argo and Step
    # Functions: every task starts in an empty directory) and line, not the task's private copy
    # or the runtime
    assert 'File "flow.py", line %d, in body' % RAISE_LINE in exc.traceback
    assert "flowc-task-" not in exc.traceback and "runtime_shim" not in exc.traceback
    assert failed.stdout == "body item 2\n"
    assert "ValueError: bad item 2" in failed.stderr
    assert run["start"].task.stdout == "start items [1, 2, 3]\n"

    code, out, err = flowc(tmp_path, "logs", "FailFlow/%s/body/t-1" % run_id, "--stderr")
    assert code == 0, err
    assert 'File "flow.py", line %d, in body' % RAISE_LINE in out and "body item" not in out
    code, out, _ = flowc(tmp_path, "logs", "FailFlow/%s/body/t-1" % run_id, "--stdout", "--follow")
    assert (code, out) == (0, "body item 2\n")      # --follow ends: the attempt has failed
    code, _, err = flowc(tmp_path, "logs", "FailFlow/%s/body/t-1" % run_id, "--attempt", "4")
    assert code == 1 and "no attempt 4" in err

    for spec in ("FailFlow", "FailFlow/" + run_id, "flow.py"):
        code, out, err = flowc(tmp_path, "show", spec)
        assert code == 1, (spec, out, err)
        assert "Run FailFlow/%s: failed" % run_id in out
        assert "FAILED body/t-1 (attempt 0): ValueError: bad item 2" in out
        assert "flowc logs FailFlow/%s/body/t-1 --stderr" % run_id in out
    code, _, err = flowc(tmp_path, "show", "FailFlow/%s/nope" % run_id)
    assert code == 1 and "has no step 'nope'" in err and "Traceback" not in err

    write(tmp_path / "flow.py", "FailFlow", fixed=True)
    code, out, err = flowc(tmp_path, "resume", "flow.py")   # the latest failed run by default
    assert code == 0, err
    new = Run("FailFlow/" + out.strip().splitlines()[-1], datastore=ds)
    assert new.successful and new.finished and new.finished_at is not None
    assert new.origin_run_id == run_id
    ran, cloned = executed_and_cloned(new)
    assert (ran, cloned) == (RERUN, CLONED)
    # artifacts by reference: the clone's manifest names the origin's blobs
    assert new["start"].task.manifest["artifacts"] == run["start"].task.manifest["artifacts"]
    assert new.data.total == 14
    assert new["start"].task.stdout == "start items [1, 2, 3]\n"     # a clone's logs: the origin's
    code, out, _ = flowc(tmp_path, "show", "FailFlow")
    assert code == 0 and "Run FailFlow/%s: successful  (resumed from %s)" % (new.id, run_id) in out

    # --step: run again from `end` only; everything before it is cloned from the resumed run
    code, out, err = flowc(tmp_path, "resume", "flow.py", new.id, "--step", "end")
    assert code == 0, err
    again = Run("FailFlow/" + out.strip().splitlines()[-1], datastore=ds)
    assert executed_and_cloned(again) == ({"end": 1}, {"start": 1, "body": 3, "join": 1})
    # the clone of a clone names the run that really ran the task
    assert again["start"].task.origin_run_id == run_id
    code, _, err = flowc(tmp_path, "resume", "flow.py", new.id, "--step", "nope")
    assert code == 1 and "has no step 'nope'" in err

    code, out, _ = flowc(tmp_path, "runs", "flow.py")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[-1].split()[:2] == [run_id, "failed"]
    assert {ln.split()[0]: ln.split()[1] for ln in lines} == {run_id: "failed", new.id: "succeeded",
                                                               again.id: "succeeded"}
    assert "resumed from %s" % run_id in out


def test_tags_and_timeout_record(tmp_path):
    (tmp_path / "slow.py").write_text('''from metaflow import FlowSpec, step, timeout


class SlowFlow(FlowSpec):
    @timeout(seconds=1)
    @step
    def start(self):
        import time
        time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    code, out, err = flowc(tmp_path, "run", "slow.py", "--tag", "nightly", "--tag", "team:x")
    assert code == 1, err
    run_id = out.strip().splitlines()[-1]
    flow = Flow("SlowFlow", datastore="file://" + str(tmp_path / ".flowc"))
    assert [r.id for r in flow.runs("nightly")] == [run_id]
    assert [r.id for r in flow.runs("nightly", "team:x")] == [run_id]
    assert flow.runs("other") == []
    exc = flow[run_id]["start"].tasks(complete_only=False)[0].exception
    assert exc.timed_out and exc.type == "metaflow.TimeoutException"
    assert "time.sleep(30)" in exc.traceback


def test_large_log_is_stored_in_chunks(tmp_path):
    """The tee keeps at most a chunk in memory: 3.5 MiB of output is 4 stored chunks, in order,
    and the whole of it still reaches the original stdout."""
    script = '''
import os, sys
sys.path.insert(0, %r)
from runtime_shim import logcapture
chunks = []
cap = logcapture.LogCapture(lambda stream, n, data: chunks.append((stream, n, len(data), data[:1]))).start()
line = b"x" * 1023 + b"\\n"
for i in range(3584):
    os.write(1, line)
os.write(2, b"err\\n")
cap.stop()
sys.stderr.write(repr(chunks) + "\\n")
''' % ROOT
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) == 3584 * 1024
    lines = proc.stderr.decode().splitlines()
    chunks = eval(lines[-1])     # noqa: S307 - our own repr
    out = [c for c in chunks if c[0] == "stdout"]
    assert [c[1] for c in out] == [0, 1, 2, 3]
    assert [c[2] for c in out] == [1 << 20] * 3 + [512 << 10]
    assert [c for c in chunks if c[0] == "stderr"] == [("stderr", 0, 4, b"e")]


def test_logs_follow_a_running_task(tmp_path):
    """`flowc logs --follow` prints a running task's output as it is stored and ends with it."""
    import time

    (tmp_path / "talk.py").write_text('''from metaflow import FlowSpec, step


class TalkFlow(FlowSpec):
    @step
    def start(self):
        import time
        print("first", flush=True)
        time.sleep(8)
        print("second", flush=True)
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    env = {k: v for k, v in os.environ.items() if k != "FLOWC_DATASTORE"}
    env["PYTHONPATH"] = ROOT
    runner = subprocess.Popen([sys.executable, "-m", "compiler.cli", "run", "talk.py", "--run-id", "talk1"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        attempt = tmp_path / ".flowc" / "TalkFlow" / "runs" / "talk1" / "start" / "t" / "attempt-0"
        deadline = time.time() + 60
        while not attempt.exists():
            assert time.time() < deadline
            time.sleep(0.1)
        assert not (attempt / "DONE").exists()      # following a task that still runs
        code, out, err = flowc(tmp_path, "logs", "TalkFlow/talk1/start/t", "--stdout", "--follow")
        assert (code, out) == (0, "first\nsecond\n"), err
    finally:
        runner.wait(timeout=120)


BRANCHY = '''from metaflow import FlowSpec, step


class BranchyFlow(FlowSpec):
    @step
    def start(self):
        self.xs = [1, 2]
        self.next(self.outer, foreach="xs")

    @step
    def outer(self):
        self.x = self.input
        self.next(self.a, self.b)

    @step
    def a(self):
        self.va = self.x * 10
        self.next(self.meet)

    @step
    def b(self):
        if self.x == 2 and BROKEN:
            import time
            time.sleep(2)       # every `a` completes first, whatever the scheduling
            raise RuntimeError("b broke")
        self.vb = self.x
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.v = inputs.a.va + inputs.b.vb
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.total == 33
'''


def test_resume_reruns_the_failed_suffix_only(tmp_path):
    """In a foreach body with a static split, `b` fails for one item: the resumed run clones start,
    every `outer` and every `a` (not after `b` in the graph), and re-runs every `b` (both items),
    then meet, gather, end: the graph's suffix from the failed step, per foreach item."""
    (tmp_path / "branchy.py").write_text("BROKEN = True\n" + BRANCHY)
    code, out, err = flowc(tmp_path, "run", "branchy.py", "--max-workers", "8")
    assert code == 1, err
    origin = out.strip().splitlines()[-1]
    (tmp_path / "branchy.py").write_text("BROKEN = False\n" + BRANCHY)
    code, out, err = flowc(tmp_path, "resume", "branchy.py")
    assert code == 0, err
    new = Run("BranchyFlow/" + out.strip().splitlines()[-1], datastore="file://" + str(tmp_path / ".flowc"))
    assert new.origin_run_id == origin and new.data.total == 33
    ran, cloned = executed_and_cloned(new)
    assert cloned == {"start": 1, "outer": 2, "a": 2}
    assert ran == {"b": 2, "meet": 2, "gather": 1, "end": 1}


def test_run_options_refuse_a_run_id_that_leaves_its_folder(tmp_path):
    import pytest

    from runtime_shim.datastore import DatastoreError, FlowDatastore

    ds = FlowDatastore("file://" + str(tmp_path), "F")
    for bad in ("..", ".", "a/b", ""):
        with pytest.raises(DatastoreError, match="bad run id"):
            ds.write_run_options(bad, {"tags": ["x"]})
    assert not (tmp_path / "F" / "options.json").exists()
    ds.write_run_options("r-1.2_3", {"tags": ["x"]})
    assert ds.read_run_options("r-1.2_3") == {"tags": ["x"]}


def test_a_task_stopped_by_sigterm_stores_its_logs_and_where_it_was(tmp_path):
    """Argo (activeDeadlineSeconds, a stop), Batch (a timeout, TerminateJob) and a node drain send
    SIGTERM before SIGKILL: the attempt ends with 143 and leaves its logs and a failure record
    naming the line the step was on, instead of nothing ("unfinished")."""
    import signal
    import time

    from runtime_shim.datastore import FlowDatastore
    from tests.runtime_fixtures import Package, file_root

    (tmp_path / "long.py").write_text('''from metaflow import FlowSpec, catch, step


class LongFlow(FlowSpec):
    @catch(var="err")
    @step
    def start(self):
        import time
        print("working on it")
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    pkg = Package(str(tmp_path / "long.py"), tmp_path)
    root = file_root(tmp_path)
    env = dict(os.environ, PYTHONPATH=pkg.zip, PYTHONSAFEPATH="1")
    proc = subprocess.Popen([sys.executable, "-m", "runtime_shim", "task", "--datastore", root, "--run-id", "r",
                             "--step", "start", "--index-path", "", "--attempt", "0", "--params-json", "{}"],
                            env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        seen.append(line)
        if "working on it" in line or time.monotonic() > deadline:
            break
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    out = "".join(seen) + rest
    assert proc.returncode == 143, out
    assert "stopped by SIGTERM" in out
    ds = FlowDatastore(root, "LongFlow")
    rec = ds.read_failure("r", "start", "t", 0)
    assert rec["type"] == "flowc.Terminated" and "stopped by SIGTERM" in rec["message"]
    assert "time.sleep(60)" in rec["traceback"]           # where the step was: not swallowed by @catch
    assert ds.attempts_done("r", "start", "t") == []      # no result was published
    task = Run("LongFlow/r", datastore=root)["start"].tasks(complete_only=False)[0]
    assert "working on it" in task.stdout
