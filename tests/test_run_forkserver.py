"""`flowc run`'s fork server: one forked process per task, a crash ends only that task, results
identical to spawning each task, and an honest fallback to spawning."""
import json
import os
import subprocess
import sys

import pytest

from tests.parity import engines as E
from tests.runtime_fixtures import SHARED_VALID, file_root, write_flow

CRASHES = '''
import os
import threading
import time
from metaflow import FlowSpec, step


class CrashFlow(FlowSpec):
    @step
    def start(self):
        self.kinds = ["exit", "segv", "threads", "ok", "ok2"]
        self.next(self.body, foreach="kinds")

    @step
    def body(self):
        self.kind = self.input
        if self.kind == "exit":
            os._exit(7)
        if self.kind == "segv":
            import ctypes
            ctypes.string_at(0)
        if self.kind == "threads":      # leaked threads: daemon, never joined, still running
            for _ in range(4):
                threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
        time.sleep(0.5)                 # the crashing siblings end while this one runs
        self.pid = os.getpid()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _events(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _run(flow, root, *args, timeout=300):
    cmd = [sys.executable, "-m", "compiler.cli", "run", flow, "--datastore", root,
           "--max-workers", "8", "--json-events"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_a_crash_ends_only_its_own_task(tmp_path):
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    p = _run(write_flow(tmp_path, CRASHES), root, "--run-id", "crash")
    assert p.returncode == 1, p.stderr
    events = _events(p.stdout)
    assert events[0]["event"] == "run_started" and events[0]["mode"] == "fork"
    done = {e["task_id"]: e for e in events if e["event"] == "task_finished" and e["step"] == "body"}
    assert done["t-0"]["exit_code"] == 7 and done["t-0"]["outcome"] == "failed"       # os._exit
    assert done["t-1"]["exit_code"] == -11 and done["t-1"]["outcome"] == "failed"     # SIGSEGV
    for tid in ("t-2", "t-3", "t-4"):                # threads, ok, ok2: unaffected, complete
        assert done[tid]["exit_code"] == 0, done[tid]
    run = Run("CrashFlow/crash", datastore=root)
    pids = {t.id: t.data.pid for t in run["body"].tasks()}
    assert sorted(pids) == ["t-2", "t-3", "t-4"]
    assert len(set(pids.values())) == 3 and os.getpid() not in pids.values()   # one process each
    assert events[-1]["event"] == "run_finished" and events[-1]["outcome"] == "failed"


# fork and spawn must store the same run: every shape of the shared flows' graphs
PARITY_FLOWS = [("hello.py", {}), ("wide_foreach.py", {"width": "5"}), ("branch.py", {}),
                ("mixed_nesting.py", {}), ("switch.py", {"threshold": "10"}),
                ("parameters.py", {"who": "x"}), ("retry_catch_timeout.py", {})]


@pytest.mark.parametrize("name,params", PARITY_FLOWS)
def test_fork_and_spawn_store_identical_runs(tmp_path, name, params):
    import io

    from compiler.runner import run_flow

    snaps = {}
    for mode in ("fork", "spawn"):
        root = "file://" + str(tmp_path / mode)
        out, msgs = io.StringIO(), []
        code = run_flow(os.path.join(SHARED_VALID, name), params=tuple("%s=%s" % kv for kv in params.items()),
                        datastore=root, stream=out, tty=False, echo=msgs.append, mode=mode, run_id="r")
        assert code == 0, "\n".join(msgs) + out.getvalue()
        assert "starting each task as a new process" not in out.getvalue()    # forked indeed
        flow_name = msgs[0].split()[2].split("/")[0]
        snaps[mode] = E.snapshot(flow_name, "r", root)
    assert E.diff(snaps["fork"], snaps["spawn"], ("fork", "spawn")) == []


def test_a_failed_preload_falls_back_to_spawning_and_says_so(tmp_path):
    root = file_root(tmp_path)
    p = _run(os.path.join(SHARED_VALID, "hello.py"), root, "--preload", "no_such_module_xyz")
    assert p.returncode == 0, p.stderr
    events = _events(p.stdout)
    assert [e["mode"] for e in events if e["event"] == "run_started"] == ["spawn"]
    said = [e["text"] for e in events if e["event"] == "message"]
    assert any("starting each task as a new process: --preload no_such_module_xyz failed" in t for t in said)


def test_preloaded_modules_are_imported_once_in_the_server(tmp_path):
    flow = write_flow(tmp_path, '''
import sys
from metaflow import FlowSpec, step


class PreFlow(FlowSpec):
    @step
    def start(self):
        self.had_decimal = "decimal" in sys.modules
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    assert _run(flow, root, "--run-id", "a").returncode == 0
    assert _run(flow, root, "--run-id", "b", "--preload", "decimal").returncode == 0
    assert Run("PreFlow/a", datastore=root)["start"].task.data.had_decimal is False
    assert Run("PreFlow/b", datastore=root)["start"].task.data.had_decimal is True


def test_threads_at_preload_make_forking_unsafe(tmp_path):
    """The server refuses to fork once a thread is running (Python or native) and says why."""
    server = os.path.join(os.path.dirname(E.__file__), "..", "..", "compiler", "runner", "forkserver.py")
    code = ("import runpy, threading, time; threading.Thread(target=time.sleep, args=(5,), daemon=True).start();"
            "g = runpy.run_path(%r); print(g['_threads_running']())" % os.path.abspath(server))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "1 Python threads were started" in p.stdout, p.stdout + p.stderr
    code = "import runpy; g = runpy.run_path(%r); print(g['_threads_running']())" % os.path.abspath(server)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "None", p.stdout + p.stderr


_TASK_AFTER_WARM = '''
import json, runpy, sys
g = runpy.run_path(%(server)r)
g["warm"]()
before = set(sys.modules)
import runtime_shim.__main__ as entry
try:
    rc = entry._main(%(argv)r)
except SystemExit as e:
    rc = e.code
with open(%(out)r, "w") as f:
    json.dump({"rc": rc, "new": sorted(set(sys.modules) - before)}, f)
'''


def test_a_task_forked_from_the_warm_server_imports_only_the_flow(tmp_path):
    """What the fork server imports once (warm) is everything a task imports besides the flow:
    a task that imported, say, urllib.request again would pay ~10 ms of CPU each, 10 s at 1,000."""
    from tests.runtime_fixtures import Package

    server = os.path.join(os.path.dirname(E.__file__), "..", "..", "compiler", "runner", "forkserver.py")
    pkg = Package(os.path.join(SHARED_VALID, "wide_foreach.py"), tmp_path)
    root = file_root(tmp_path)
    common = ["task", "--datastore", root, "--run-id", "w"]
    tasks = [("start", "", ["--params-json", json.dumps({"width": 2})]), ("square", "0", []),
             ("square", "1", []), ("total", "", []), ("end", "", [])]
    for n, (step, index, extra) in enumerate(tasks):
        out = tmp_path / ("new-%d.json" % n)
        argv = common + ["--step", step, "--index-path", index, "--attempt", "0"] + extra
        cwd = tmp_path / ("cwd-%d" % n)
        cwd.mkdir()
        code = _TASK_AFTER_WARM % {"server": os.path.abspath(server), "argv": argv, "out": str(out)}
        p = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PYTHONPATH=pkg.zip, PYTHONSAFEPATH="1"))
        result = json.loads(out.read_text())
        assert result["rc"] == 0, p.stdout + p.stderr
        assert result["new"] == ["flowc_user_flow"], (step, result["new"])
