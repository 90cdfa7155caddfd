"""Writing a file so that a concurrent reader sees the old whole file or the new one, never a part
(a temporary file beside it, then a rename). Standard library only: the console script's replay
cache (compiler/entry.py) uses it before anything else of flowc is imported."""
from __future__ import annotations

import os
import tempfile


def write_text(path: str, text: str, suffix: str = "") -> None:
    """Write `text` to `path` atomically; raises OSError (the temporary file is removed)."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
