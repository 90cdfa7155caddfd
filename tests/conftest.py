"""Shared pytest fixtures. Keep this file minimal: fixtures live in tests/fixtures_*.py."""
try:
    from tests.fixtures_moto import moto_raw, moto_server, s3_root  # noqa: F401
except ImportError:  # tests/ is on sys.path itself (rootdir conftest, no package)
    from fixtures_moto import moto_raw, moto_server, s3_root  # noqa: F401
