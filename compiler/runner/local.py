"""The local runner: runs a whole flow as local task processes (and remote ones, compiler.runner.backends).

Every local task runs exactly as in a container: the runtime's entry point (`python -m
runtime_shim task ...`) from the code package zip, in a fresh empty working directory, in a
process group of its own. By default tasks are forked from a warm fork server that has already
imported the runtime (compiler/runner/forkserver.py), one process per task; where forking is
unsafe each task is spawned (`python -m runtime_shim ...`) and the runner says why.

Tasks are scheduled from the spec's graph as soon as their inputs are complete (foreach fan-out
from the `num_splits` output file, switches from the `branch` output file, recursive switches by
iteration), up to `max_workers` at a time, with local retries per the step's retry spec.

Stopping: SIGINT / SIGTERM, or a closed output (`flowc run | head -1`), set `abort`; the main
loop then launches nothing more and stops every task's process group (TERM, then KILL after
GRACE_S), waits for each task to end, and returns. Nothing waits on a queue without a timeout,
and a worker thread always reports its task, whatever happens to it.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from compiler.runner.progress import Progress
from runtime_shim.datastore import task_id_for

GRACE_S = 3.0                   # from TERM to KILL when a run is stopped
ABORT_CODES = {"SIGINT": 130, "SIGTERM": 143, "output closed": 141}


def default_workers() -> int:
    return max(2, min(16, (os.cpu_count() or 2) * 2))


class LocalRunner:
    def __init__(self, spec: dict, zip_path: str, datastore: str, run_id: str, params: dict,
                 max_workers: int | None = None, env: dict | None = None, cwd: str | None = None,
                 stream=None, tty=None, python: str | None = None, remote=None,
                 mode: str = "auto", preload=(), output: str = "text"):
        self.spec = spec
        # hybrid runs: step name -> (Backend, StepPlan), and the datastore to read outputs from
        # (compiler.runner.backends); other steps run as local processes
        self.remote = remote or {}
        self.steps = spec["steps"]
        self.zip_path = zip_path
        self.datastore = datastore
        self.run_id = run_id
        self.params = params
        self.max_workers = max_workers or default_workers()
        self.base_env = dict(os.environ if env is None else env)
        self.base_env["PYTHONPATH"] = zip_path
        self.base_env["PYTHONUNBUFFERED"] = "1"
        self.base_env["PYTHONSAFEPATH"] = "1"   # the cwd must not shadow the package's runtime
        self.base_env.pop("PYTHONHOME", None)
        self.base_env.pop("PWD", None)          # each task has its own cwd, not the runner's
        self.cwd = cwd      # kept for callers; a task never starts in it (parity: fresh cwd)
        self.python = python or sys.executable
        self.mode = mode                        # auto | fork | spawn
        self.preload = tuple(preload or ())
        self.progress = Progress(list(self.steps), stream=stream, tty=tty, mode=output,
                                 on_broken=lambda: self._abort("output closed"))
        self.events: queue.Queue = queue.Queue()
        self.tmp = tempfile.mkdtemp(prefix="flowc-run-")
        self.splits: dict = {}           # (split step, ip) -> num_splits
        self.join_wait: dict = {}        # (join, ip) -> set of arrived keys
        self.scheduled: set = set()
        self.failed: list = []
        self.abort: str | None = None    # why the run is being stopped
        self.live: dict = {}             # launch number -> pid (spawned tasks)
        self.launches = 0
        self.forkserver: Any = None      # compiler.runner.forkclient.ForkServer when forking
        self.how = "spawn"               # how local tasks start: fork or spawn (and why)

    # ---- graph helpers
    def _branch_of(self, join):
        """For a static join: (pred step -> index of the split branch it ends, number of branches)."""
        from runtime_shim.graph import branch_positions

        return branch_positions(self.steps, join), len(self.steps[self.steps[join]["join_of"]]["next"])

    def _is_foreach_join(self, step):
        s = self.steps[step]
        return s["kind"] == "join" and self.steps.get(s.get("join_of"), {}).get("kind") in (
            "foreach", "parallel")

    def _arrive(self, join, ip, key, need):
        got = self.join_wait.setdefault((join, ip), set())
        got.add(key)
        if len(got) >= need:
            self._schedule(join, ip, 0)

    def _successors(self, step, ip, iteration, outputs):
        s = self.steps[step]
        kind = s["kind"]
        if kind in ("foreach", "parallel"):
            n = int(outputs.get("num_splits") or 0)
            self.splits[(step, ip)] = n
            if n == 0:
                if s.get("matching_join"):
                    self._schedule(s["matching_join"], ip, 0)
                return
            for i in range(n):
                self._schedule(s["next"][0], ip + (i,), 0)
            return
        if kind == "switch":
            branch = outputs.get("branch")
            if branch == step:
                self._schedule(step, ip, iteration + 1)
            else:
                self._next_step(step, branch, ip)
            return
        for n in s.get("next", []):
            self._next_step(step, n, ip)

    def _next_step(self, step, n, ip):
        if self.steps[n]["kind"] == "join":
            if self._is_foreach_join(n):
                parent = ip[:-1]
                need = self.splits.get((self.steps[n]["join_of"], parent), 0)
                self._arrive(n, parent, ip[-1], need)
            else:
                order, nbranches = self._branch_of(n)
                self._arrive(n, ip, order.get(step, step), nbranches)
        else:
            self._schedule(n, ip, 0)

    # ---- tasks
    def _schedule(self, step, ip, iteration):
        key = (step, ip, iteration)
        if key in self.scheduled:
            return
        self.scheduled.add(key)
        self.progress.scheduled(step)
        self.ready.append((step, ip, iteration, 0))

    def _argv(self, step, ip, iteration, attempt, **options):
        """The task argv (compiler.compute.container.task_argv) of one attempt."""
        from compiler.compute.container import task_argv

        return task_argv(step, datastore=self.datastore, run_id=self.run_id,
                         index_path=",".join(str(i) for i in ip), attempt=str(attempt),
                         iteration=str(iteration) if iteration else None, **options)

    def _task_args(self, step, ip, iteration, attempt, out_dir):
        params_file = None
        if step == self.spec["start"]:
            params_file = os.path.join(self.tmp, "params.json")
            if not os.path.exists(params_file):
                with open(params_file, "w") as f:
                    json.dump(self.params, f)
        return self._argv(step, ip, iteration, attempt, output_dir=out_dir, params_file=params_file)

    def _command(self, step, ip, iteration, attempt, out_dir):
        return [self.python, "-m", "runtime_shim"] + self._task_args(step, ip, iteration, attempt, out_dir)

    def _echo_filter(self, step, tid, attempt):
        """The runtime's own start/success lines repeat what the runner prints: drop them, and
        drop the pathspec from its other lines (the runner's prefix already names the task)."""
        own = "[flowc] %s/%s/%s attempt %d " % (self.run_id, step, tid, attempt)

        def out(text):
            if text.startswith(own):
                rest = text[len(own):]
                if rest in ("starting", "succeeded"):
                    return
                text = "[flowc] " + rest
            self.progress.task_output(step, tid, attempt, text)
        return out

    def _launch(self, step, ip, iteration, attempt):
        tid = task_id_for(ip, iteration)
        self.progress.task_started(step, tid, attempt)
        if step in self.remote:
            prefix = "[%s/%s%s]" % (step, tid, "#%d" % attempt if attempt else "")
            self._launch_remote(step, ip, iteration, attempt, tid, prefix)
            return
        self.launches += 1
        n = self.launches
        out_dir = os.path.join(self.tmp, str(n))          # the task's output files
        cwd = os.path.join(out_dir, "cwd")                # fresh and empty, as in a container
        os.makedirs(cwd)
        step_env = dict(self.steps[step].get("env") or {})
        args = self._task_args(step, ip, iteration, attempt, out_dir)
        emit = self._echo_filter(step, tid, attempt)

        def worker():
            rc = 3
            t0 = time.monotonic()
            try:
                rc = self._run_local(n, args, step_env, cwd, emit)
            except BaseException as e:  # noqa: BLE001 - a worker never dies without reporting
                try:
                    emit("[flowc] runner error: %r" % (e,))
                except BaseException:  # noqa: BLE001
                    pass
            finally:
                outputs = {}
                for name in ("num_splits", "branch", "task_id"):
                    p = os.path.join(out_dir, name)
                    try:
                        with open(p) as f:
                            outputs[name] = f.read()
                    except OSError:
                        pass
                self.events.put((step, ip, iteration, attempt, rc, outputs, time.monotonic() - t0))

        threading.Thread(target=worker, daemon=True).start()

    def _run_local(self, n, args, step_env, cwd, emit) -> int:
        if self.forkserver is not None:
            handle = self.forkserver.spawn(args, step_env, cwd)
            with handle.stdout:
                _pump(handle.stdout, emit, lambda: handle.returncode is not None)
            rc = handle.wait()
            if handle.error:
                emit("[flowc] %s" % handle.error)
            return rc if rc is not None else 3
        env = dict(self.base_env)
        env.update(step_env)
        try:
            proc = subprocess.Popen([self.python, "-m", "runtime_shim"] + args, env=env, cwd=cwd,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            emit("cannot start: %s" % e)
            return 3
        self.live[n] = proc.pid
        stdout = proc.stdout
        assert stdout is not None       # stdout=PIPE
        def ended():
            """Exited? Then kill what it left in its group (as a container's end does) while
            its zombie still holds the group id; Popen.wait reaps it afterwards."""
            try:
                info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
            if info is None or info.si_pid == 0:
                return False
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            return True

        try:
            with stdout:
                _pump(stdout, emit, ended)
            # The pipe can end before the task does (its output went elsewhere, e.g. the runtime's
            # log capture): wait for the exit without reaping, then end what it left in its group.
            try:
                os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            return proc.wait()
        finally:
            self.live.pop(n, None)

    def _launch_remote(self, step, ip, iteration, attempt, tid, prefix):
        from compiler.runner.backends import RemoteTask, outputs_from_datastore

        backend, plan_step, ds = self.remote[step]
        params_json = json.dumps(self.params, sort_keys=True) if step == self.spec["start"] else None
        args = self._argv(step, ip, iteration, attempt, params_json=params_json)
        task = RemoteTask(self.spec["flow_name"], self.run_id, plan_step, tid, attempt, args,
                          dict(self.steps[step].get("env") or {}))

        def worker():
            outputs = {}
            try:
                rc = backend.run_task(task, lambda text: self.progress.task_output(step, tid, attempt, text))
                if rc == 0:
                    outputs = outputs_from_datastore(ds, self.run_id, step, tid)
            except Exception as e:  # noqa: BLE001 - a backend bug must not hang the run
                self.progress.task_output(step, tid, attempt, "%s backend failed: %r" % (backend.name, e))
                rc = 3
            self.events.put((step, ip, iteration, attempt, rc, outputs, 0.0))

        threading.Thread(target=worker, daemon=True).start()

    # ---- stopping
    def _abort(self, why: str) -> None:
        if self.abort is None:
            self.abort = why

    def _on_signal(self, signum, frame):
        self._abort(signal.Signals(signum).name)

    def _kill_all(self, sig) -> None:
        pids = list(self.live.values())
        if self.forkserver is not None:
            pids += self.forkserver.pids()
        for pid in pids:
            try:
                os.killpg(pid, sig)
            except OSError:
                pass

    def _start_tasks_how(self) -> None:
        """Start the fork server unless told to spawn; say why when forking is not possible."""
        local = [s for s in self.steps if s not in self.remote]
        if self.mode == "spawn" or not local:
            return
        from compiler.runner.forkclient import ForkServer, ForkUnavailable

        try:
            self.forkserver = ForkServer.start(self.python, self.base_env, self.preload,
                                               popen=subprocess.Popen,
                                               network=str(self.datastore).startswith("s3://"))
            self.how = "fork"
        except ForkUnavailable as e:
            self.progress.line("[flowc] starting each task as a new process: %s" % e)

    # ---- the main loop
    def run(self) -> bool:
        self.ready: list = []
        handlers = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            self._start_tasks_how()
            self.progress.run_started(self.spec["flow_name"], self.run_id, self.how)
            self._schedule(self.spec["start"], (), 0)
            self._loop()
            if self.abort is None:          # @exit_hook, after the run (compiler/runner/hooks.py)
                from compiler.runner.hooks import run_exit_hooks

                run_exit_hooks(self)
        finally:
            try:
                if self.forkserver is not None:
                    self.forkserver.close()
            finally:
                for sig, old in handlers.items():
                    signal.signal(sig, old)
                shutil.rmtree(self.tmp, ignore_errors=True)
        return not self.failed and not self.abort

    def _loop(self) -> None:
        running = 0
        delayed: list = []   # (time, task)
        stop_at = kill_at = None
        while True:
            now = time.monotonic()
            if self.abort is not None and stop_at is None:
                stop_at, kill_at = now, now + GRACE_S
                self.ready.clear()
                delayed.clear()
                self._kill_all(signal.SIGTERM)
            if kill_at is not None and now >= kill_at:
                kill_at = None
                self._kill_all(signal.SIGKILL)
            if stop_at is not None and now > stop_at + GRACE_S + 10 and running:
                # only remote tasks can still be running: their backend owns them now
                self.progress.line("[flowc] %d remote task(s) still running were left to their "
                                   "backend" % running)
                break
            for item in [d for d in delayed if d[0] <= now]:
                delayed.remove(item)
                self.ready.append(item[1])
            while self.ready and running < self.max_workers and not self.failed and self.abort is None:
                step, ip, it, att = self.ready.pop(0)
                self._launch(step, ip, it, att)
                running += 1
            if running == 0 and (self.failed or self.abort or (not self.ready and not delayed)):
                break
            self.progress.check_closed()
            timeout = 0.2         # signals and a closed output are noticed within this
            if delayed:
                timeout = max(0.0, min(timeout, min(d[0] for d in delayed) - time.monotonic()))
            try:
                step, ip, it, att, rc, outputs, seconds = self.events.get(timeout=timeout)
            except queue.Empty:
                continue
            running -= 1
            tid = task_id_for(ip, it)
            if rc == 0:
                self.progress.task_finished(step, tid, att, rc, seconds, "ok")
                if self.abort is None:
                    self._successors(step, ip, it, outputs)
                continue
            retry = self.steps[step].get("retry") or {}
            times = int(retry.get("times") or 0)
            if rc != 2 and att < times and not self.failed and self.abort is None:
                wait = 60.0 * float(retry.get("minutes_between") or 0)
                self.progress.task_finished(step, tid, att, rc, seconds, "retrying",
                                            "; retrying%s" % (" in %.0fs" % wait if wait else ""))
                delayed.append((time.monotonic() + wait, (step, ip, it, att + 1)))
                continue
            self.progress.task_finished(step, tid, att, rc, seconds, "failed",
                                        "" if self.abort else " after %d attempt(s)" % (att + 1))
            if self.abort is None:
                self.failed.append(("%s/%s/%s" % (self.run_id, step, tid), rc))


def _pump(stream, emit, ended, linger: float = 1.0) -> None:
    """Emit the lines of a task's output pipe until EOF, or until `linger` seconds after the task
    ended: a process the task left behind may hold the pipe open, and must not hang the run."""
    import select

    fd = stream.fileno()
    poller = select.poll()          # not select.select: fds past 1024 with many workers
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    buf = b""
    stop_at = None
    while True:
        if stop_at is None and ended():
            stop_at = time.monotonic() + linger
        if stop_at is not None and time.monotonic() >= stop_at:
            break
        if not poller.poll(200):
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            emit(line.decode("utf-8", "replace"))
    if buf:
        emit(buf.decode("utf-8", "replace"))
