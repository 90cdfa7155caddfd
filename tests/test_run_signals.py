"""`flowc run` end to end: stopped by a signal with no task left behind, a closed stdout, two
runs racing for one run id, run id validation, a tampered code package, --quiet and --json-events."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.runtime_fixtures import REPO, SHARED_VALID, file_root, run, write_flow

# Each task records its pid, then writes a heartbeat forever: a task left running after the
# runner is gone would go on writing.
SLOW = '''
import os
import time
from metaflow import FlowSpec, step


class SlowFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(4))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        d = os.environ["SLOW_DIR"]
        with open(os.path.join(d, "pid-%d" % self.input), "w") as f:
            f.write(str(os.getpid()))
        print("body %d running" % self.input, flush=True)
        while True:
            with open(os.path.join(d, "beat-%d" % self.input), "a") as f:
                f.write(".")
            time.sleep(0.05)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _start(args, env, **kw):
    return subprocess.Popen([sys.executable, "-m", "compiler.cli", "run"] + args, env=env,
                            cwd=REPO, start_new_session=True, **kw)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(pred, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig,code,mode", [(signal.SIGTERM, 143, "fork"), (signal.SIGINT, 130, "spawn")])
def test_a_signal_stops_every_task_and_marks_the_run_aborted(tmp_path, sig, code, mode):
    from runtime_shim import runstate
    from runtime_shim.datastore import FlowDatastore

    slow_dir = tmp_path / "slow"
    slow_dir.mkdir()
    root = file_root(tmp_path)
    env = dict(os.environ, SLOW_DIR=str(slow_dir))
    args = [write_flow(tmp_path, SLOW), "--datastore", root, "--run-id", "s", "--max-workers", "4"]
    p = _start(args + (["--spawn"] if mode == "spawn" else []), env,
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: len([n for n in os.listdir(slow_dir) if n.startswith("beat-")]) == 4)
        pids = [int((slow_dir / ("pid-%d" % i)).read_text()) for i in range(4)]
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == code, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert [line for line in err.splitlines() if "aborted" in line] == [
        line for line in err.splitlines() if line.startswith("flowc: run SlowFlow/s aborted (%s)" % sig.name)]
    assert len([line for line in err.splitlines() if "aborted" in line]) == 1
    assert not [pid for pid in pids if _alive(pid)]           # no task left, none re-parented
    beats = {n: os.path.getsize(slow_dir / n) for n in os.listdir(slow_dir) if n.startswith("beat-")}
    time.sleep(0.5)
    assert beats == {n: os.path.getsize(slow_dir / n) for n in beats}   # nobody writes on
    aborted = runstate.aborted(FlowDatastore(root, "SlowFlow"), "s")
    assert aborted is not None and aborted["reason"] == sig.name


def test_a_closed_stdout_ends_the_run(tmp_path):
    """`flowc run flow.py | head -1` exits: the first failed write stops the run (exit 141)."""
    slow_dir = tmp_path / "slow"
    slow_dir.mkdir()
    flow = write_flow(tmp_path, SLOW)
    env = dict(os.environ, SLOW_DIR=str(slow_dir))
    cmd = ('"%s" -m compiler.cli run "%s" --datastore "%s" --run-id h | head -1; echo "status ${PIPESTATUS[0]}" >&2'
           % (sys.executable, flow, file_root(tmp_path)))
    t0 = time.monotonic()
    p = subprocess.run(["bash", "-c", cmd], env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert p.stdout.count("\n") == 1, p.stdout                   # head printed its one line
    assert "status 141" in p.stderr, p.stderr
    assert "aborted (output closed)" in p.stderr and "Traceback" not in p.stderr
    assert "BrokenPipeError" not in p.stderr
    assert time.monotonic() - t0 < 170
    pids = [int((slow_dir / n).read_text()) for n in os.listdir(slow_dir) if n.startswith("pid-")]
    assert not [pid for pid in pids if _alive(pid)]


def test_two_runs_racing_for_one_run_id(tmp_path):
    """Both start at once; exactly one runs, the other is refused with FC531 before any task."""
    root = file_root(tmp_path)
    flow = os.path.join(SHARED_VALID, "hello.py")
    procs = [_start([flow, "--datastore", root, "--run-id", "race", "--spawn"], dict(os.environ),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    loser = [r for r in results if r[0] == 2][0]
    assert "FC531" in loser[2] and "already exists" in loser[2]
    assert "started" not in loser[1]                           # it ran no task


def test_claims_are_atomic_on_s3(tmp_path, s3_root):
    """The conditional PUT (If-None-Match: *) is honoured by the S3 stand-in: a second claim of
    one id fails even when the run has written no step yet."""
    from compiler.runner import runids
    from runtime_shim.datastore import FlowDatastore

    ds = FlowDatastore(s3_root, "HelloFlow")
    runids.claim(ds, "r1")
    with pytest.raises(runids.RunIdError) as e:
        runids.claim(ds, "r1")
    assert e.value.code == "FC531"
    runids.claim(ds, "r2")


def test_claims_are_atomic_on_files(tmp_path):
    from compiler.runner import runids
    from runtime_shim.datastore import FlowDatastore

    ds = FlowDatastore(file_root(tmp_path), "HelloFlow")
    runids.claim(ds, "r1")
    with pytest.raises(runids.RunIdError) as e:
        runids.claim(ds, "r1")
    assert e.value.code == "FC531"


@pytest.mark.parametrize("bad", [".", "..", "a/b", "../x", "a\\b", "x" * 129, "", "a b"])
def test_bad_run_ids_are_refused_with_a_code(tmp_path, bad):
    code, _, out = run(os.path.join(SHARED_VALID, "hello.py"), datastore=file_root(tmp_path), run_id=bad)
    assert code == 2 and "FC530" in out, out
    assert not os.path.exists(os.path.join(str(tmp_path), "ds", "HelloFlow", "runs"))


def test_a_tampered_code_package_is_refused(tmp_path):
    root = file_root(tmp_path)
    flow = os.path.join(SHARED_VALID, "hello.py")
    assert run(flow, datastore=root, run_id="one")[0] == 0
    code_dir = os.path.join(str(tmp_path), "ds", "HelloFlow", "code")
    (name,) = os.listdir(code_dir)
    with open(os.path.join(code_dir, name), "ab") as f:
        f.write(b"# not what was stored")
    code, _, out = run(flow, datastore=root, run_id="two")
    assert code == 2 and "FC532" in out and "refusing to run it" in out, out
    assert not os.path.exists(os.path.join(str(tmp_path), "ds", "HelloFlow", "runs", "two"))


def test_json_events_follow_the_documented_schema(tmp_path):
    p = subprocess.run([sys.executable, "-m", "compiler.cli", "run", os.path.join(SHARED_VALID, "wide_foreach.py"),
                        "--param", "width=3", "--datastore", file_root(tmp_path), "--json-events"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    events = [json.loads(line) for line in p.stdout.splitlines()]      # every line is one event
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert set(kinds) <= {"run_started", "task_started", "task_output", "task_finished", "message", "run_finished"}
    assert kinds.count("task_started") == kinds.count("task_finished") == 1 + 3 + 1 + 1
    fin = events[-1]
    assert fin["outcome"] == "succeeded" and fin["steps"]["square"] == {"done": 3, "total": 3, "failed": 0}
    for e in events:
        assert isinstance(e["time"], float)
        if e["event"].startswith("task_"):
            assert {"step", "task_id", "attempt"} <= set(e)


def test_quiet_shows_only_a_failure_and_the_status(tmp_path):
    flow = write_flow(tmp_path, '''
from metaflow import FlowSpec, step


class LoudFlow(FlowSpec):
    @step
    def start(self):
        print("chatter")
        self.next(self.boom)

    @step
    def boom(self):
        print("about to fail")
        raise ValueError("no")
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    p = subprocess.run([sys.executable, "-m", "compiler.cli", "run", flow, "--datastore", file_root(tmp_path),
                        "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr
    assert "chatter" not in p.stdout and "started" not in p.stdout
    assert "boom/t | about to fail" in p.stdout and "boom/t FAILED (exit 1)" in p.stdout
    assert "start 1/1 · boom 0/1 · failed 1 · " in p.stdout


LEAKER = '''
import os
import subprocess
from metaflow import FlowSpec, step


class LeakFlow(FlowSpec):
    @step
    def start(self):
        # a child that inherits the task's stdout and outlives the task
        child = subprocess.Popen(["sleep", "120"])
        with open(os.environ["LEAK_PID"], "w") as f:
            f.write(str(child.pid))
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("mode", ["fork", "spawn"])
def test_what_a_task_leaves_running_ends_with_it(tmp_path, mode):
    """As at the end of a container: the task's leftover processes are stopped, and one holding
    the output pipe open does not keep the run waiting."""
    pid_file = tmp_path / "leak.pid"
    env = dict(os.environ, LEAK_PID=str(pid_file))
    cmd = [write_flow(tmp_path, LEAKER), "--datastore", file_root(tmp_path)] + (["--spawn"] if mode == "spawn" else [])
    p = _start(cmd, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=110)         # the sleeper would hold the pipe 120 s
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 0, err
    assert not _alive(int(pid_file.read_text()))
