"""The local runner: runs a whole flow as `python -m runtime_shim task ...` subprocesses.

Every task runs exactly as in a container: `PYTHONPATH=<code package zip> python -m runtime_shim
task ...`, so a local run proves the package. Tasks are scheduled from the spec's graph as soon as
their inputs are complete (foreach fan-out from the `num_splits` output file, switches from the
`branch` output file, recursive switches by iteration), up to `max_workers` at a time, with local
retries per the step's retry spec.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from runtime_shim.datastore import task_id_for


def default_workers() -> int:
    return max(2, min(16, (os.cpu_count() or 2) * 2))


class Progress:
    """Task output lines prefixed by pathspec; a live status line when stdout is a TTY."""

    def __init__(self, steps, stream=None, tty=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.lock = threading.Lock()
        self.counts = {s: [0, 0, 0] for s in steps}   # done, running, failed
        self.status_shown = False

    def _status(self):
        parts = []
        for s, (d, r, f) in self.counts.items():
            if d or r or f:
                parts.append("%s %d%s%s" % (s, d, "+%d" % r if r else "", " !%d" % f if f else ""))
        return "[flowc] " + "  ".join(parts)

    def _redraw(self):
        if self.tty:
            self.stream.write("\r\x1b[K" + self._status()[: shutil.get_terminal_size().columns - 1])
            self.stream.flush()
            self.status_shown = True

    def line(self, text):
        with self.lock:
            if self.tty and self.status_shown:
                self.stream.write("\r\x1b[K")
            self.stream.write(text + "\n")
            self._redraw()
            if not self.tty:
                self.stream.flush()

    def update(self, step, done=0, running=0, failed=0):
        with self.lock:
            c = self.counts.setdefault(step, [0, 0, 0])
            c[0] += done
            c[1] += running
            c[2] += failed
            self._redraw()

    def close(self):
        with self.lock:
            if self.tty and self.status_shown:
                self.stream.write("\r\x1b[K" + self._status() + "\n")
                self.stream.flush()


class LocalRunner:
    def __init__(self, spec: dict, zip_path: str, datastore: str, run_id: str, params: dict,
                 max_workers: int | None = None, env: dict | None = None, cwd: str | None = None,
                 stream=None, tty=None, python: str | None = None, remote=None):
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
        self.cwd = cwd
        self.python = python or sys.executable
        self.progress = Progress(list(self.steps), stream=stream, tty=tty)
        self.events: queue.Queue = queue.Queue()
        self.tmp = tempfile.mkdtemp(prefix="flowc-run-")
        self.splits: dict = {}           # (split step, ip) -> num_splits
        self.join_wait: dict = {}        # (join, ip) -> set of arrived keys
        self.scheduled: set = set()
        self.failed: list = []

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
        self.ready.append((step, ip, iteration, 0))

    def _argv(self, step, ip, iteration, attempt, **options):
        """The task argv (compiler.compute.container.task_argv) of one attempt."""
        from compiler.compute.container import task_argv

        return task_argv(step, datastore=self.datastore, run_id=self.run_id,
                         index_path=",".join(str(i) for i in ip), attempt=str(attempt),
                         iteration=str(iteration) if iteration else None, **options)

    def _command(self, step, ip, iteration, attempt, out_dir):
        params_file = None
        if step == self.spec["start"]:
            params_file = os.path.join(self.tmp, "params.json")
            if not os.path.exists(params_file):
                with open(params_file, "w") as f:
                    json.dump(self.params, f)
        return [self.python, "-m", "runtime_shim"] + self._argv(step, ip, iteration, attempt, output_dir=out_dir,
                                                                params_file=params_file)

    def _launch(self, step, ip, iteration, attempt):
        tid = task_id_for(ip, iteration)
        out_dir = os.path.join(self.tmp, "out", step, tid, str(attempt))
        os.makedirs(out_dir, exist_ok=True)
        env = dict(self.base_env)
        env.update(self.steps[step].get("env") or {})
        cmd = self._command(step, ip, iteration, attempt, out_dir)
        prefix = "[%s/%s/%s%s]" % (self.run_id, step, tid, " attempt %d" % attempt if attempt else "")
        self.progress.update(step, running=1)
        if step in self.remote:
            self._launch_remote(step, ip, iteration, attempt, tid, prefix)
            return

        def worker():
            rc = None
            try:
                proc = subprocess.Popen(cmd, env=env, cwd=self.cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                for raw in proc.stdout:
                    self.progress.line("%s %s" % (prefix, raw.decode("utf-8", "replace")
                                                  .rstrip("\n")))
                rc = proc.wait()
            except OSError as e:
                self.progress.line("%s cannot start: %s" % (prefix, e))
                rc = 3
            outputs = {}
            for name in ("num_splits", "branch", "task_id"):
                p = os.path.join(out_dir, name)
                if os.path.exists(p):
                    with open(p) as f:
                        outputs[name] = f.read()
            self.events.put((step, ip, iteration, attempt, rc, outputs))

        threading.Thread(target=worker, daemon=True).start()

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
                rc = backend.run_task(task, lambda text: self.progress.line("%s %s" % (prefix, text)))
                if rc == 0:
                    outputs = outputs_from_datastore(ds, self.run_id, step, tid)
            except Exception as e:  # noqa: BLE001 - a backend bug must not hang the run
                self.progress.line("%s %s backend failed: %r" % (prefix, backend.name, e))
                rc = 3
            self.events.put((step, ip, iteration, attempt, rc, outputs))

        threading.Thread(target=worker, daemon=True).start()

    def run(self) -> bool:
        self.ready: list = []
        start = self.spec["start"]
        self._schedule(start, (), 0)
        running = 0
        delayed: list = []   # (time, task)
        try:
            while True:
                now = time.monotonic()
                for item in [d for d in delayed if d[0] <= now]:
                    delayed.remove(item)
                    self.ready.append(item[1])
                while self.ready and running < self.max_workers and not self.failed:
                    step, ip, it, att = self.ready.pop(0)
                    self._launch(step, ip, it, att)
                    running += 1
                if running == 0 and (self.failed or (not self.ready and not delayed)):
                    break
                timeout = None
                if delayed:
                    timeout = max(0.0, min(d[0] for d in delayed) - time.monotonic())
                try:
                    step, ip, it, att, rc, outputs = self.events.get(timeout=timeout)
                except queue.Empty:
                    continue
                running -= 1
                self.progress.update(step, running=-1)
                if rc == 0:
                    self.progress.update(step, done=1)
                    self._successors(step, ip, it, outputs)
                    continue
                retry = self.steps[step].get("retry") or {}
                times = int(retry.get("times") or 0)
                path = "%s/%s/%s" % (self.run_id, step, task_id_for(ip, it))
                if rc != 2 and att < times and not self.failed:
                    wait = 60.0 * float(retry.get("minutes_between") or 0)
                    self.progress.line("[flowc] %s attempt %d failed (exit %s); retrying%s" % (
                        path, att, rc, " in %.0fs" % wait if wait else ""))
                    delayed.append((time.monotonic() + wait, (step, ip, it, att + 1)))
                    continue
                self.progress.update(step, failed=1)
                self.progress.line("[flowc] %s failed (exit %s) after %d attempt(s)"
                                   % (path, rc, att + 1))
                self.failed.append((path, rc))
            # @exit_hook, after the run
            from compiler.runner.hooks import run_exit_hooks

            run_exit_hooks(self)
        finally:
            self.progress.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return not self.failed
