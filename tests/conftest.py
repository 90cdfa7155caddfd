"""Shared pytest fixtures. Keep this file minimal: fixtures live in tests/fixtures_*.py."""
try:
    from tests.fixtures_moto import moto_raw, moto_server, s3_root  # noqa: F401
except ImportError:  # tests/ is on sys.path itself (rootdir conftest, no package)
    from fixtures_moto import moto_raw, moto_server, s3_root  # noqa: F401

import os as _os

import pytest as _pytest

# A flow directory that goes missing (or loses most of its flows) must fail the run, not shrink
# the parametrized tests to skips: the minimum number of flows each corpus holds.
CORPUS_MINIMUM = {
    ("flows", "shared", "valid"): 20,
    ("flows", "shared", "invalid"): 15,
    ("flows", "valid_own"): 36,
    ("flows", "invalid_own"): 39,
}


def corpus_shortfalls(root: str = _os.path.dirname(__file__)) -> list[str]:
    short = []
    for parts, minimum in sorted(CORPUS_MINIMUM.items()):
        folder = _os.path.join(root, *parts)
        found = len([f for f in _os.listdir(folder) if f.endswith(".py")]) if _os.path.isdir(folder) else 0
        if found < minimum:
            short.append("%s holds %d flows, fewer than %d" % (_os.path.join(*parts), found, minimum))
    return short


def pytest_configure(config):
    short = corpus_shortfalls()
    if short:
        raise _pytest.UsageError("the flow corpus is incomplete: " + "; ".join(short))


# flowc check/compile cache analyses in the user's cache dir by default: the suite uses its own.
import tempfile as _tempfile  # noqa: E402

_os.environ.setdefault("FLOWC_CACHE_DIR", _tempfile.mkdtemp(prefix="flowc-test-cache-"))
