"""The failure record of an attempt: the exception's type, message and traceback, with frames
in the user's code only (not the runtime's), named by the user's file rather than the task's
private copy of it."""
from __future__ import annotations

import os
import time
import traceback

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_runtime(filename: str) -> bool:
    # runtime_shim from a directory, from inside the code package zip, or compiled into the
    # package with its relative name (runtime_shim/x.py)
    return filename.startswith(_RUNTIME_DIR + os.sep) or filename.startswith("runtime_shim" + os.sep) or \
        (os.sep + "runtime_shim" + os.sep) in filename


def display_path(filename: str, flow_dir: str | None, source_dir: str | None) -> str:
    """The user's own path of a file of the flow: `source_dir/<rel>` when it exists there (a local
    run starts each task in the flow's directory), else the package-relative `<rel>` (a container
    has only the package)."""
    if not flow_dir or not filename.startswith(flow_dir.rstrip(os.sep) + os.sep):
        return filename
    rel = os.path.relpath(filename, flow_dir)
    if source_dir:
        original = os.path.join(source_dir, rel)
        if os.path.isfile(original):
            return original
    return rel


def user_traceback(exc: BaseException, flow_dir: str | None, source_dir: str | None) -> str:
    frames = []
    for f in traceback.extract_tb(exc.__traceback__):
        in_flow = flow_dir is not None and f.filename.startswith(flow_dir.rstrip(os.sep) + os.sep)
        if not in_flow and (_is_runtime(f.filename) or f.filename.startswith("<frozen")):
            continue
        line = f.line   # read from the task's copy before the name changes
        frames.append(traceback.FrameSummary(display_path(f.filename, flow_dir, source_dir), f.lineno,
                                             f.name, line=line))
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    return text + "".join(traceback.format_exception_only(type(exc), exc))


def exception_type(exc: BaseException) -> str:
    t = type(exc)
    if t.__module__ in ("builtins", "flowc_user_flow", "__main__"):
        return t.__name__
    if t.__module__.startswith("runtime_shim"):   # the runtime's `metaflow` module provides it
        return "metaflow." + t.__name__
    return "%s.%s" % (t.__module__, t.__name__)


def record(pathspec: str, attempt: int, *, exc: BaseException | None = None, message: str = "",
           flow_dir=None, source_dir=None, final: bool = True, started: float | None = None) -> dict:
    """What failure.json holds. `final`: no retry is left (the task, not only the attempt, failed)."""
    from runtime_shim.api import TimeoutException

    rec = {"format": 1, "pathspec": pathspec, "attempt": attempt, "final": final,
           "started_at": started, "failed_at": time.time()}
    if exc is not None:
        rec.update(type=exception_type(exc), message=str(exc),
                   traceback=user_traceback(exc, flow_dir, source_dir),
                   timed_out=isinstance(exc, TimeoutException))
    else:
        rec.update(type="FlowcError", message=message, traceback="", timed_out=False)
    return rec
