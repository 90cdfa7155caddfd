"""Tee a task's stdout and stderr into the datastore, chunk by chunk, while it runs.

The capture is at the file-descriptor level (fd 1 and 2 become pipes), so the output of child
processes and C extensions is kept too; everything still reaches the original stdout/stderr (the
console, the pod log, CloudWatch). Memory is bounded: a stream is stored as numbered chunks of at
most CHUNK_BYTES, written when a chunk fills or FLUSH_SECONDS after its first unsaved byte, so a
huge log is streamed rather than buffered and `flowc logs --follow` sees a running task's output.
"""
from __future__ import annotations

import os
import select
import sys
import threading
import time

CHUNK_BYTES = 1 << 20
FLUSH_SECONDS = 2.0
DRAIN_SECONDS = 1.0     # after the task: how long a child that still holds the pipe may keep it


class _Stream:
    def __init__(self, name: str, fd: int):
        self.name, self.fd = name, fd
        self.saved = os.dup(fd)         # the original stdout/stderr
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.buf = bytearray()
        self.number = 0
        self.since: float | None = None  # monotonic time of the first unsaved byte
        self.passthrough = True
        self.open = True


class LogCapture:
    """start() redirects; stop() restores fd 1/2 and stores what is left. `sink(stream, number,
    data)` stores one chunk; a failing sink stops storing, never the task."""

    def __init__(self, sink):
        self.sink = sink
        self.streams: list[_Stream] = []
        self.thread = None
        self.stopping = False
        self.sink_error = None

    def start(self) -> "LogCapture":
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except (OSError, ValueError):
                pass
        self.streams = [_Stream("stdout", 1), _Stream("stderr", 2)]
        self.thread = threading.Thread(target=self._pump, name="flowc-logs", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is None:
            return
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except (OSError, ValueError):
                pass
        for s in self.streams:
            os.dup2(s.saved, s.fd)      # closes the pipe's last write end we hold: EOF follows
        self.stopping = True
        self.thread.join(DRAIN_SECONDS + 5)
        for s in self.streams:
            self._save(s)
            for fd in (s.read_end, s.saved):
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.thread = None

    def _save(self, s: _Stream) -> None:
        if not s.buf or self.sink_error is not None:
            s.buf = bytearray()
            return
        data, s.buf, s.since = bytes(s.buf), bytearray(), None
        try:
            self.sink(s.name, s.number, data)
        except Exception as e:  # noqa: BLE001 - the task goes on; its logs are incomplete
            self.sink_error = e
            self._write(self.streams[-1], b"[flowc] logs are no longer stored: %s\n"
                        % str(e).encode("utf-8", "replace"))
        s.number += 1

    @staticmethod
    def _write(s: _Stream, data: bytes) -> None:
        if not s.passthrough:
            return
        view = memoryview(data)
        try:
            while view:
                n = os.write(s.saved, view)
                view = view[n:]
        except OSError:     # the reader went away (a closed pipe): keep storing, stop echoing
            s.passthrough = False

    def _pump(self) -> None:
        drain_until = None
        while True:
            live = [s for s in self.streams if s.open]
            if not live:
                return
            if self.stopping and drain_until is None:
                drain_until = time.monotonic() + DRAIN_SECONDS
            if drain_until is not None and time.monotonic() > drain_until:
                return          # a child process still holds the pipe: stop waiting for it
            try:
                ready, _, _ = select.select([s.read_end for s in live], [], [], 0.2)
            except (OSError, ValueError):
                return
            for s in live:
                if s.read_end not in ready:
                    continue
                try:
                    data = os.read(s.read_end, 65536)
                except OSError:
                    data = b""
                if not data:
                    s.open = False
                    continue
                self._write(s, data)
                if s.since is None:
                    s.since = time.monotonic()
                s.buf += data
                while len(s.buf) >= CHUNK_BYTES:
                    rest = s.buf[CHUNK_BYTES:]
                    s.buf = s.buf[:CHUNK_BYTES]
                    self._save(s)
                    s.buf, s.since = rest, (time.monotonic() if rest else None)
            now = time.monotonic()
            for s in self.streams:
                if s.since is not None and now - s.since >= FLUSH_SECONDS and not self.stopping:
                    self._save(s)
