"""The fork server of `flowc run` (run as a script, never imported by the compiler).

`python forkserver.py SOCKET_FD [MODULE,...]`, started by compiler.runner.forkclient with the
environment a spawned task gets (PYTHONPATH = the code package zip, PYTHONSAFEPATH=1, so this
file's folder is not on sys.path and `runtime_shim` comes from the package, as in a task). It
imports the runtime once (and, opt-in, the flow's heavy modules), then forks one process per task.

Protocol on SOCKET_FD (an AF_UNIX SOCK_SEQPACKET socket: one JSON object per message):
  server -> runner  {"ready": true, "pid": N} or {"ready": false, "why": "..."} (then it exits)
  runner -> server  {"id": N, "argv": [...], "env": {...}, "cwd": DIR} with one fd attached:
                    the write end of the task's output pipe (its stdout and stderr)
  server -> runner  {"id": N, "pid": P}, later {"id": N, "rc": RC} (RC as Popen.returncode:
                    negative for a signal), or {"id": N, "rc": null, "error": "..."}

Each child: its own process group, default signal dispositions, stdin /dev/null, the pipe as
fds 1 and 2, the task environment (the server's + the step's), a fresh working directory, the
server's resource limits (those of the runner, as for a spawned task); then the runtime's own
entry point (runtime_shim.__main__._main) and os._exit. A crash (os._exit, a segfault) ends that
child only; what a task leaves running in its process group is killed when it ends, as at the
end of a container. On EOF of the socket (the runner ended) or SIGTERM the server stops every child's
process group (TERM, then KILL after a grace period) and exits, so no task outlives the run.
"""
import json
import os
import selectors
import signal
import socket
import sys
import time

# Besides every module of runtime_shim a task can import: the stdlib modules a task imports lazily
# on its hot path. Imported once here instead of once per task (a forked task that imports the
# email package, say, pays ~10 ms of CPU for it: a thousand tasks, ten seconds). Not imported for a
# run that cannot use them: the server's start is on the run's critical path (~60 ms for these).
# tests/test_run_forkserver.py checks that a task forked from warm() imports nothing but the flow.
STDLIB_MODULES = ("json", "pickle", "hashlib", "traceback", "zipfile", "zipimport", "importlib.util",
                  "signal", "shutil", "struct", "zlib", "uuid", "datetime")
# What only tasks with an s3:// datastore (or @secrets) import: AWS over HTTP.
NETWORK_MODULES = ("urllib.request", "runtime_shim.awslite", "runtime_shim.s3lite", "runtime_shim.batchlite",
                   "runtime_shim.secrets")
# Entry points of other runtime commands, never imported by a task: an Argo batch-submit pod, an
# exit hook.
NOT_TASKS = ("runtime_shim.batch_submit", "runtime_shim.hook")
GRACE_S = 3.0


def _threads_running():
    """Why forking is unsafe here, or None: any thread besides this one (Python or native)."""
    import threading

    if threading.active_count() > 1:
        return "%d Python threads were started while importing" % (threading.active_count() - 1)
    try:
        n = len(os.listdir("/proc/self/task"))
    except OSError:
        return None
    if n > 1:
        return "%d native threads were started while importing (e.g. a BLAS pool)" % (n - 1)
    return None


def _send(sock, obj):
    try:
        sock.send(json.dumps(obj).encode())
    except OSError:
        pass


def _child(req, fd, sock, wake_fds):
    """In the forked child: become the task, run it, never return."""
    code = 1
    try:
        os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sock.close()
        for w in wake_fds:
            os.close(w)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(null)
        os.close(fd)
        os.environ.update(req.get("env") or {})
        os.chdir(req["cwd"])
        import atexit

        atexit._clear()
        if "numpy.random" in sys.modules:       # a preloaded numpy: no shared random state
            sys.modules["numpy.random"].seed()
        main = sys.modules["runtime_shim.__main__"]
        sys.argv = [main.__file__] + list(req["argv"])
        code = main._main(list(req["argv"]))
    except SystemExit as e:                 # as the interpreter maps sys.exit(x)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, (int, type(None))):
            sys.stderr.write("%s\n" % (e.code,))
    except BaseException:  # noqa: BLE001 - the task's process ends as an uncaught error would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            import threading

            threading._shutdown()           # non-daemon threads, as at interpreter exit
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001 - exit anyway
            pass
        os._exit(code if isinstance(code, int) else 1)


def warm(network: bool = False):
    """Import what every task imports: each runtime module (found in the package, so a module
    added later is warmed too) and STDLIB_MODULES, and with `network` NETWORK_MODULES; install the
    `metaflow` shim."""
    import importlib
    import pkgutil

    import runtime_shim

    skip = set(NOT_TASKS) | (set() if network else set(NETWORK_MODULES))
    for name in STDLIB_MODULES + (NETWORK_MODULES if network else ()):
        importlib.import_module(name)
    for info in sorted(pkgutil.iter_modules(runtime_shim.__path__), key=lambda i: i.name):
        if "runtime_shim." + info.name not in skip:
            importlib.import_module("runtime_shim." + info.name)
    sys.modules["runtime_shim.api"].install()


def serve(sock, preload, network=False):
    import importlib

    warm(network)
    for name in preload:
        try:
            importlib.import_module(name)
        except BaseException as e:  # noqa: BLE001 - report and start nothing
            _send(sock, {"ready": False, "why": "--preload %s failed: %s: %s"
                         % (name, type(e).__name__, e)})
            return 1
    why = _threads_running()
    if why:
        _send(sock, {"ready": False, "why": why})
        return 1
    import gc

    gc.collect()
    gc.freeze()     # what was imported stays out of the children's collections: fewer COW copies
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the runner decides; it tells us by EOF/TERM
    signal.set_wakeup_fd(w)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(r, selectors.EVENT_READ)
    children = {}                            # pid -> request id
    sys.stdout.flush()
    sys.stderr.flush()
    _send(sock, {"ready": True, "pid": os.getpid()})
    open_ = True
    while open_ and not stopping:
        for key, _ in sel.select():
            if key.fileobj is r:
                try:
                    while os.read(r, 512):
                        pass
                except BlockingIOError:
                    pass
                continue
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 4)
            except InterruptedError:
                continue
            except OSError:
                msg, fds = b"", []
            if not msg:
                open_ = False
                break
            req = json.loads(msg)
            if len(fds) != 1:
                for f in fds:
                    os.close(f)
                _send(sock, {"id": req.get("id"), "rc": None, "error": "no output fd"})
                continue
            try:
                pid = os.fork()
            except OSError as e:
                os.close(fds[0])
                _send(sock, {"id": req["id"], "rc": None, "error": "fork failed: %s" % e})
                continue
            if pid == 0:
                _child(req, fds[0], sock, (r, w))
            os.close(fds[0])
            try:
                os.setpgid(pid, pid)        # also here: no window where a kill misses the group
            except OSError:
                pass
            children[pid] = req["id"]
            _send(sock, {"id": req["id"], "pid": pid})
        _reap(children, sock, block=False)
    _stop(children, sock)
    return 0


def _reap(children, sock, block):
    """Report each ended child; first kill what it left in its process group (a container's end
    ends every process in it), while its zombie still holds the group id."""
    while children:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG))
        except ChildProcessError:
            children.clear()
            return
        if info is None or info.si_pid == 0:
            return
        try:
            os.killpg(info.si_pid, signal.SIGKILL)
        except OSError:
            pass
        pid, status = os.waitpid(info.si_pid, 0)
        rid = children.pop(pid, None)
        if rid is not None:
            _send(sock, {"id": rid, "rc": os.waitstatus_to_exitcode(status)})


def _stop(children, sock):
    """Stop every task's process group: TERM, a grace period, then KILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in list(children):
            try:
                os.killpg(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + GRACE_S
        while children and time.monotonic() < deadline:
            _reap(children, sock, block=False)
            time.sleep(0.02)
    _reap(children, sock, block=True)


def main(argv):
    sock = socket.socket(fileno=int(argv[0]))
    preload = [m for m in (argv[1] if len(argv) > 1 else "").split(",") if m]
    try:
        return serve(sock, preload, network=len(argv) > 2 and argv[2] == "network")
    except Exception as e:  # noqa: BLE001 - the runner falls back to spawning
        _send(sock, {"ready": False, "why": "%s: %s" % (type(e).__name__, e)})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
