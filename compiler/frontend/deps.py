"""The files an analysis looked at besides the flow itself, recorded so a cached analysis can be
checked for staleness (compiler/frontend/cache.py).

imports.py and static_eval.py probe and read sibling modules only through isfile() and
read_text() here. While a recording is active each probed path is noted as absent, present
(existence only) or the sha256 of the bytes that were parsed; a missing module that appears later
changes the analysis as surely as an edited one.
"""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from typing import Iterator

ABSENT = None          # the path was not a file
PRESENT = "file"       # a file whose existence (not content) the analysis used

_active: list[dict[str, str | None]] = []


@contextmanager
def recording() -> Iterator[dict[str, str | None]]:
    seen: dict[str, str | None] = {}
    _active.append(seen)
    try:
        yield seen
    finally:
        _active.remove(seen)


def _note(path: str, state: str | None, overwrite: bool) -> None:
    key = os.path.abspath(path)
    for seen in _active:
        if overwrite or key not in seen:
            seen[key] = state


def isfile(path: str) -> bool:
    found = os.path.isfile(path)
    if _active:
        _note(path, PRESENT if found else ABSENT, overwrite=False)
    return found


def read_text(path: str) -> str:
    """The file decoded as UTF-8 (UnicodeDecodeError/OSError as open().read() raises them)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if _active:
        _note(path, digest(data), overwrite=True)
    # what open(path, encoding="utf-8").read() returns: universal newlines
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state_of(path: str, recorded: str | None) -> str | None:
    """What `path` is now, in the terms `recorded` was written in."""
    if recorded is ABSENT or recorded == PRESENT:
        return PRESENT if os.path.isfile(path) else ABSENT
    try:
        with open(path, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return ABSENT
