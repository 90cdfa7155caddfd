"""What `flowc run` prints while it runs: text for people, or JSON events for CI.

Text: one line when a task starts and one when it ends (`square/t-3 ok 0.2s`), its output lines
prefixed `square/t-3 | `, and a status line with labels and totals
(`start 1/1 · square 32/200 running 4 · failed 0 · 3.2s`): redrawn in place on a TTY, printed
once at the end otherwise. `quiet`: only a failed task's output (its last lines) and the final
status. `json`: one JSON object per line (schema in README.md, "flowc run events").

A closed output (`flowc run | head -1`) never raises into a worker: the first failed write
marks the output broken, later writes are dropped, and `on_broken` tells the runner.
"""
from __future__ import annotations

import collections
import json
import os
import shutil
import sys
import threading
import time

QUIET_TAIL = 200        # lines of a task's output kept in quiet mode, shown if it fails


class Progress:
    def __init__(self, steps, stream=None, tty=None, mode: str = "text", on_broken=None):
        self.stream = stream or sys.stdout
        self.tty = (_isatty(self.stream) if tty is None else tty) and mode == "text"
        self.mode = mode                      # text | quiet | json
        self.lock = threading.Lock()
        self.counts = {s: [0, 0, 0, 0] for s in steps}   # done, total, running, failed
        self.status_shown = False
        self.broken = False
        self.on_broken = on_broken
        self.t0 = time.monotonic()
        self.tails: dict = {}

    # ---- writing
    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text)
            if not self.tty or text.endswith("\n"):
                self.stream.flush()
        except (OSError, ValueError):
            self._broke()

    def _broke(self) -> None:
        self.broken = True
        if self.stream is sys.stdout:     # no "Exception ignored ... BrokenPipeError" at exit
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, sys.stdout.fileno())
                os.close(null)
            except (OSError, ValueError):
                pass
        if self.on_broken is not None:
            self.on_broken()

    def check_closed(self) -> None:
        """Notice a reader that went away even when nothing is being written (a pipe's write
        end polls POLLERR once its reader is gone): called by the runner's main loop."""
        if self.broken:
            return
        try:
            fd = self.stream.fileno()
        except (AttributeError, ValueError, OSError):
            return
        import select

        try:
            poller = select.poll()
            poller.register(fd, 0)
            for _fd, revents in poller.poll(0):
                if revents & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                    with self.lock:
                        self._broke()
        except (OSError, ValueError):
            pass

    def _event(self, **fields) -> None:
        fields["time"] = round(time.time(), 3)
        self._write(json.dumps(fields, sort_keys=True) + "\n")

    def status(self) -> str:
        parts = []
        failed = 0
        for s, (d, total, r, f) in self.counts.items():
            failed += f
            if total:
                parts.append("%s %d/%d%s" % (s, d, total, " running %d" % r if r else ""))
        parts.append("failed %d" % failed)
        parts.append("%.1fs" % (time.monotonic() - self.t0))
        return " · ".join(parts)

    def _redraw(self) -> None:
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            self._write("\r\x1b[K" + self.status()[:width])
            self.status_shown = True

    def _line(self, text: str) -> None:
        if self.tty and self.status_shown:
            self._write("\r\x1b[K")
        self._write(text + "\n")
        self._redraw()

    # ---- what the runner reports
    def line(self, text: str) -> None:
        """A message of the runner itself."""
        with self.lock:
            if self.mode == "json":
                self._event(event="message", text=text)
            else:
                self._line(text)

    def run_started(self, flow: str, run_id: str, mode: str) -> None:
        if self.mode == "json":
            with self.lock:
                self._event(event="run_started", flow=flow, run_id=run_id, mode=mode)

    def scheduled(self, step: str) -> None:
        with self.lock:
            self.counts.setdefault(step, [0, 0, 0, 0])[1] += 1

    def task_started(self, step, tid, attempt) -> None:
        with self.lock:
            self.counts.setdefault(step, [0, 0, 0, 0])[2] += 1
            if self.mode == "json":
                self._event(event="task_started", step=step, task_id=tid, attempt=attempt)
            elif self.mode == "text":
                self._line("%s started" % _label(step, tid, attempt))
            else:
                self.tails[(step, tid, attempt)] = collections.deque(maxlen=QUIET_TAIL)

    def task_output(self, step, tid, attempt, text) -> None:
        with self.lock:
            if self.mode == "json":
                self._event(event="task_output", step=step, task_id=tid, attempt=attempt, line=text)
            elif self.mode == "text":
                self._line("%s | %s" % (_label(step, tid, attempt), text))
            else:
                self.tails.setdefault((step, tid, attempt), collections.deque(maxlen=QUIET_TAIL)).append(text)

    def task_finished(self, step, tid, attempt, rc, seconds, outcome, note="") -> None:
        """outcome: ok, retrying or failed."""
        with self.lock:
            c = self.counts.setdefault(step, [0, 0, 0, 0])
            c[2] -= 1
            if outcome == "ok":
                c[0] += 1
            elif outcome == "failed":
                c[3] += 1
            tail = self.tails.pop((step, tid, attempt), None)
            if self.mode == "json":
                self._event(event="task_finished", step=step, task_id=tid, attempt=attempt,
                            exit_code=rc, seconds=round(seconds, 3), outcome=outcome)
                return
            label = _label(step, tid, attempt)
            if outcome == "ok":
                if self.mode == "text":
                    self._line("%s ok %.1fs" % (label, seconds))
                else:
                    self._redraw()
                return
            if self.mode == "quiet" and tail:
                for text in tail:
                    self._line("%s | %s" % (label, text))
            self._line("%s %s (exit %s) %.1fs%s" % (label, "FAILED" if outcome == "failed" else "failed",
                                                  rc, seconds, note))

    def close(self, outcome: str = "", run_id: str = "", flow: str = "") -> None:
        with self.lock:
            if self.mode == "json":
                counts = {s: {"done": d, "total": t, "failed": f}
                          for s, (d, t, _r, f) in self.counts.items() if t}
                self._event(event="run_finished", flow=flow, run_id=run_id, outcome=outcome,
                            seconds=round(time.monotonic() - self.t0, 3), steps=counts)
                return
            if self.tty and self.status_shown:
                self._write("\r\x1b[K")
            self._write(self.status() + "\n")


def _label(step, tid, attempt) -> str:
    return "%s/%s%s" % (step, tid, "#%d" % attempt if attempt else "")


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
