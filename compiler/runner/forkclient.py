"""The runner's side of the fork server (compiler/runner/forkserver.py): start it, hand it tasks,
learn their pids and exit codes.

`ForkServer.start(...)` returns a server or raises ForkUnavailable with the reason (macOS, no
fork, a --preload import failed or started threads); the runner then spawns every task instead
and says why. A task is `spawn(argv, env, cwd)` -> TaskHandle: `.stdout` (a binary file reading
the task's stdout+stderr), `.pid` once known, `.wait(timeout)` -> exit code like Popen's.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forkserver.py")
START_TIMEOUT_S = 60.0
LOST = 3        # exit code of a task whose fork server died under it (a runtime failure)


class ForkUnavailable(Exception):
    """Forking is unsafe or impossible here; the message says why."""


def unsafe_reason() -> str | None:
    """Why this platform must spawn, or None."""
    if sys.platform == "darwin":
        return "fork is unsafe on macOS (system frameworks are not fork-safe)"
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return "this platform has no fork/SCM_RIGHTS"
    return None


class TaskHandle:
    def __init__(self, rid: int, read_fd: int):
        self.id = rid
        self.stdout = os.fdopen(read_fd, "rb")
        self.pid: int | None = None
        self.returncode: int | None = None
        self.error: str | None = None
        self._done = threading.Event()

    def _finish(self, rc, error=None):
        self.returncode = LOST if rc is None else rc
        self.error = error
        self._done.set()

    def wait(self, timeout: float | None = None) -> int | None:
        self._done.wait(timeout)
        return self.returncode


class ForkServer:
    def __init__(self, proc, sock, popen):
        self.proc = proc
        self.sock = sock
        self.pid = proc.pid
        self._lock = threading.Lock()
        self._tasks: dict[int, TaskHandle] = {}
        self._next = 0
        self._reader = threading.Thread(target=self._read, name="flowc-forkserver", daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, python: str, env: dict, preload=(), popen=None, network: bool = False) -> "ForkServer":
        """Start the server with `env` (the base task environment) in its own session; `network`:
        the tasks talk to AWS (an s3:// datastore), so the server imports that part too."""
        why = unsafe_reason()
        if why:
            raise ForkUnavailable(why)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        popen = popen or subprocess.Popen
        try:
            proc = popen([python, SERVER, str(theirs.fileno()), ",".join(preload),
                          "network" if network else "local"], env=env,
                         cwd="/", stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),),
                         start_new_session=True)
        except OSError as e:
            ours.close()
            raise ForkUnavailable("cannot start the fork server: %s" % e) from None
        finally:
            theirs.close()
        ours.settimeout(START_TIMEOUT_S)
        try:
            hello = json.loads(ours.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as e:
            hello = {"ready": False, "why": "no answer from the fork server (%s)" % e}
        if not hello.get("ready"):
            ours.close()
            _end(proc)
            raise ForkUnavailable(hello.get("why") or "the fork server exited at start")
        ours.settimeout(None)
        return cls(proc, ours, popen)

    def spawn(self, argv, env: dict, cwd: str) -> TaskHandle:
        r, w = os.pipe()
        with self._lock:
            self._next += 1
            handle = TaskHandle(self._next, r)
            self._tasks[handle.id] = handle
            msg = json.dumps({"id": handle.id, "argv": list(argv), "env": env, "cwd": cwd}).encode()
            try:
                socket.send_fds(self.sock, [msg], [w])
            except OSError as e:
                self._tasks.pop(handle.id, None)
                handle._finish(None, "the fork server is gone: %s" % e)
            finally:
                os.close(w)
        return handle

    def pids(self) -> list[int]:
        with self._lock:
            return [h.pid for h in self._tasks.values() if h.pid]

    def _read(self):
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            msg = json.loads(data)
            with self._lock:
                handle = self._tasks.get(msg.get("id"))
                if handle is None:
                    continue
                if "pid" in msg:
                    handle.pid = msg["pid"]
                    continue
                del self._tasks[handle.id]
            handle._finish(msg.get("rc"), msg.get("error"))
        with self._lock:                     # the server is gone: nothing more will finish
            left, self._tasks = list(self._tasks.values()), {}
        for handle in left:
            handle._finish(None, "the fork server exited")

    def close(self, timeout: float = 10.0) -> None:
        """Stop the server; it stops any task still running (TERM, then KILL) and exits."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        _end(self.proc, timeout)
        self._reader.join(timeout=1.0)
        self.sock.close()


def _end(proc, timeout: float = 10.0) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
