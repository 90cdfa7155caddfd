"""What a pure command's run read and wrote, recorded at the I/O layer for the replay cache
(compiler/entry.py), and its stdout/stderr bytes.

While a recording runs, open (builtins.open, io.open: what pathlib and tomllib go through),
os.stat, os.lstat (os.path.isfile/exists/isdir/islink), os.readlink (realpath, resolve),
os.listdir and os.scandir (os.walk, glob) are wrapped: each path read is noted with its sha256 as
it was read, each path probed with its kind, each directory listed with its entries, each symlink
read with its target. Paths under the cache directory are the cache's own business, and flowc's
own trees are in the entry's key (entry.identity): neither is noted. Files opened for writing
and directories made are the run's outputs. An audit hook notes anything a replay could not reproduce (a subprocess,
a socket, a file removed, renamed or written some other way, a chdir): such a run is not stored.
"""
from __future__ import annotations

import builtins
import io
import os
import sys
from typing import Any, Callable

from compiler.entry import _digest, _kind, _link, _listing

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_IMPURE_EVENTS = frozenset(("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                            "os.fork", "os.forkpty", "socket.connect", "socket.bind", "socket.sendto",
                            "os.chdir", "os.kill", "os.killpg", "webbrowser.open"))
_PATH_EVENTS = frozenset(("os.remove", "os.rename", "os.rmdir", "os.chmod", "os.chown", "os.truncate",
                          "os.utime", "os.symlink", "os.link", "shutil.rmtree", "shutil.move",
                          "os.chflags", "os.mkfifo", "os.mknod", "os.setxattr", "os.removexattr"))

_current: Recorder | None = None
_hooked = False


def _audit(event: str, args: tuple) -> None:
    rec = _current
    if rec is None or rec.busy:
        return
    if event in _IMPURE_EVENTS:
        rec.impure.append(event)
    elif event in _PATH_EVENTS:
        paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
        if not paths or not all(rec.excluded(p) for p in paths):
            rec.impure.append(event)
    elif event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writes = any(c in mode for c in "wax+") if isinstance(mode, str) else \
            isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
        if writes and isinstance(path, (str, bytes, os.PathLike)) and not rec.excluded(path) \
                and rec.abs(path) not in rec.written:
            rec.impure.append("write " + repr(path))


class _Tee(io.RawIOBase):
    """Writes through to fd and keeps the bytes."""

    def __init__(self, fd: int):
        self.fd = fd
        self.data = bytearray()
        self.failed = False     # a write failed (a closed pipe): what was kept is not the output

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.data += data
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except BaseException:
            self.failed = True
            raise
        return len(data)

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)


class _Stdin:
    """sys.stdin during a recording: what a run reads from it is not recorded, so reading it makes
    the run not replayable."""

    _READS = frozenset(("read", "readline", "readlines", "buffer", "fileno", "detach", "__iter__", "__next__"))

    def __init__(self, stream: Any, recorder: Recorder):
        self._stream, self._recorder = stream, recorder

    def __getattr__(self, name: str) -> Any:
        if name in self._READS:
            self._recorder.impure.append("stdin")
        return getattr(self._stream, name)

    def __iter__(self) -> Any:
        self._recorder.impure.append("stdin")
        return iter(self._stream)


def _tee_stream(stream: Any, fd: int) -> tuple[Any, _Tee]:
    tee = _Tee(fd)
    wrapper = io.TextIOWrapper(io.BufferedWriter(tee), encoding=stream.encoding, errors=stream.errors,
                               line_buffering=stream.line_buffering, write_through=True)
    return wrapper, tee


class Recorder:
    def __init__(self, exclude: tuple[str, ...]):
        self.exclude = tuple(os.path.join(os.path.abspath(e), "") for e in exclude)
        self.reads: dict[str, str | None] = {}
        self.stats: dict[tuple[str, bool], str | None] = {}
        self.lists: dict[str, list | None] = {}
        self.links: dict[str, str | None] = {}
        self.written: list[str] = []
        self.dirs: list[str] = []
        self.impure: list[str] = []
        self.busy = False
        self.out: _Tee | None = None
        self.err: _Tee | None = None

    # -------------------------------------------------------------- paths
    @staticmethod
    def abs(path: Any) -> str:
        p = os.fspath(path)
        if isinstance(p, bytes):
            p = os.fsdecode(p)
        return os.path.abspath(p)

    def excluded(self, path: Any) -> bool:
        try:
            return os.path.join(self.abs(path), "").startswith(self.exclude)
        except (TypeError, ValueError):
            return False

    def _path(self, path: Any) -> str | None:
        """The absolute path to note, or None (a file descriptor, the cache's own files)."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            return None
        try:
            p = self.abs(path)
        except (TypeError, ValueError):
            return None
        return None if os.path.join(p, "").startswith(self.exclude) else p

    # -------------------------------------------------------------- wrappers
    def _wrap(self) -> dict[tuple[Any, str], Any]:
        real_open, real_stat, real_lstat = io.open, os.stat, os.lstat
        real_listdir, real_scandir, real_mkdir, real_readlink = os.listdir, os.scandir, os.mkdir, os.readlink
        saved = {(builtins, "open"): builtins.open, (io, "open"): io.open, (os, "stat"): real_stat,
                 (os, "lstat"): real_lstat, (os, "listdir"): real_listdir, (os, "scandir"): real_scandir,
                 (os, "mkdir"): real_mkdir, (os, "readlink"): real_readlink}
        rec = self

        def note(fn: Callable[[], Any]) -> None:
            rec.busy = True
            try:
                fn()
            finally:
                rec.busy = False

        def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            p = None if rec.busy else rec._path(file)
            if p is not None:
                if any(c in mode for c in "wax+"):
                    if "a" in mode or "+" in mode:
                        rec.impure.append("open %r %s" % (p, mode))
                    elif p not in rec.written:
                        rec.written.append(p)
                elif p not in rec.reads and p not in rec.written:
                    note(lambda: rec.reads.__setitem__(p, _digest(p)))
            return real_open(file, mode, *args, **kwargs)

        def stat_(path: Any, *args: Any, dir_fd: Any = None, follow_symlinks: bool = True) -> Any:
            return _probe(real_stat, path, args, dir_fd, follow_symlinks)

        def lstat_(path: Any, *args: Any, dir_fd: Any = None) -> Any:
            return _probe(real_lstat, path, args, dir_fd, False)

        def _probe(real: Any, path: Any, args: tuple, dir_fd: Any, follow: bool) -> Any:
            if rec.busy:
                return real(path, *args, dir_fd=dir_fd) if real is real_lstat else \
                    real(path, *args, dir_fd=dir_fd, follow_symlinks=follow)
            if dir_fd is not None or args:
                rec.impure.append("stat with dir_fd")
            p = rec._path(path)
            if p is not None and (p, follow) not in rec.stats:
                note(lambda: rec.stats.__setitem__((p, follow), _kind(p, follow)))
            if real is real_lstat:
                return real(path, *args, dir_fd=dir_fd)
            return real(path, *args, dir_fd=dir_fd, follow_symlinks=follow)

        def listdir_(path: Any = ".") -> Any:
            _listed(path)
            return real_listdir(path)

        def scandir_(path: Any = ".") -> Any:
            _listed(path)
            return real_scandir(path)

        def _listed(path: Any) -> None:
            if rec.busy:
                return
            if isinstance(path, int):
                rec.impure.append("listdir of a descriptor")
                return
            p = rec._path(path)
            if p is not None and p not in rec.lists:
                note(lambda: rec.lists.__setitem__(p, _listing(p)))

        def readlink_(path: Any, *args: Any, **kwargs: Any) -> Any:
            # a symlink pointed elsewhere changes what realpath() and resolve() find
            p = None if rec.busy else rec._path(path)
            if p is not None and p not in rec.links:
                note(lambda: rec.links.__setitem__(p, _link(p)))
            return real_readlink(path, *args, **kwargs)

        def mkdir_(path: Any, *args: Any, **kwargs: Any) -> Any:
            result = real_mkdir(path, *args, **kwargs)
            p = None if rec.busy else rec._path(path)
            if p is not None:
                rec.dirs.append(p)
            return result

        builtins.open = io.open = open_
        os.stat, os.lstat = stat_, lstat_
        os.listdir, os.scandir, os.mkdir, os.readlink = listdir_, scandir_, mkdir_, readlink_
        return saved

    # -------------------------------------------------------------- run
    def run(self, fn: Callable[[], Any]) -> int:
        """Run fn (a click main: it exits) while recording; its exit code."""
        global _current, _hooked
        if not _hooked:
            sys.addaudithook(_audit)
            _hooked = True
        old_out, old_err, old_in = sys.stdout, sys.stderr, sys.stdin
        sys.stdin = _Stdin(old_in, self)
        old_out.flush()
        old_err.flush()
        sys.stdout, self.out = _tee_stream(old_out, old_out.fileno())
        sys.stderr, self.err = _tee_stream(old_err, old_err.fileno())
        saved = self._wrap()
        _current = self
        code: Any = 0
        try:
            try:
                fn()
            except SystemExit as stop:
                code = stop.code
            if code is None:
                code = 0
            elif not isinstance(code, int):
                print(code, file=sys.stderr)      # what the interpreter does with sys.exit("text")
                code = 1
        except BaseException:
            self.impure.append("exception")
            raise
        finally:
            _current = None
            for (obj, name), value in saved.items():
                setattr(obj, name, value)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    self.impure.append("flush")
            sys.stdout, sys.stderr, sys.stdin = old_out, old_err, old_in
        return code

    def replayable(self) -> bool:
        return not self.impure and not (self.out and self.out.failed) and not (self.err and self.err.failed)

    def content(self, code: int) -> dict:
        import base64

        outputs = set(self.written) | set(self.dirs)
        files = []
        for p in self.written:
            with open(p, "rb") as fh:
                files.append([p, base64.b64encode(fh.read()).decode("ascii")])
        assert self.out is not None and self.err is not None
        return {"inputs": {"read": sorted([p, d] for p, d in self.reads.items() if p not in outputs),
                           "stat": sorted([p, f, k] for (p, f), k in self.stats.items() if p not in outputs),
                           "list": sorted([p, n] for p, n in self.lists.items() if p not in outputs),
                           "link": sorted([p, t] for p, t in self.links.items() if p not in outputs)},
                "dirs": list(self.dirs), "files": files,
                "stdout": base64.b64encode(bytes(self.out.data)).decode("ascii"),
                "stderr": base64.b64encode(bytes(self.err.data)).decode("ascii"),
                "exit": code}
