"""Shared pytest fixtures. Keep this file minimal: fixtures live in tests/fixtures_*.py."""
try:
    from tests.fixtures_moto import moto_raw, moto_server, s3_root  # noqa: F401
except ImportError:  # tests/ is on sys.path itself (rootdir conftest, no package)
    from fixtures_moto import moto_raw, moto_server, s3_root  # noqa: F401

# flowc check/compile cache analyses in the user's cache dir by default: the suite uses its own.
import os as _os  # noqa: E402
import tempfile as _tempfile  # noqa: E402

_os.environ.setdefault("FLOWC_CACHE_DIR", _tempfile.mkdtemp(prefix="flowc-test-cache-"))
