"""@pypi/@conda packages at task start (runtime_shim/packages.py): only with FLOWC_INSTALL_PACKAGES,
once per hash of the packages and Python; a cache hit runs no pip."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from runtime_shim import packages as P


def test_nothing_happens_without_the_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("FLOWC_INSTALL_PACKAGES", raising=False)
    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path))
    assert P.ensure({"packages": {"six": ""}}) is None
    assert os.listdir(tmp_path) == []


def test_requirements_and_the_key():
    assert P.requirement("pandas", "2.2.2") == "pandas==2.2.2"
    assert P.requirement("pandas", ">=2") == "pandas>=2"
    assert P.requirement("pandas", "") == "pandas"
    assert P.cache_dir({"a": "1", "b": "2"}) == P.cache_dir({"b": "2", "a": "1"})
    assert P.cache_dir({"a": "1"}) != P.cache_dir({"a": "2"})


def test_install_once_then_hit(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWC_INSTALL_PACKAGES", "1")
    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    t0 = time.perf_counter()
    first = P.ensure({"packages": {"six": ""}})
    miss = time.perf_counter() - t0
    assert os.path.isfile(os.path.join(first, "six.py"))
    assert sys.path[0] == first
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k))
    t0 = time.perf_counter()
    second = P.ensure({"packages": {"six": ""}})
    hit = time.perf_counter() - t0
    assert second == first and calls == []          # a hit runs no pip
    print(f"\npackages: cache miss {miss:.2f} s, cache hit {hit * 1000:.2f} ms")
    assert hit < miss
