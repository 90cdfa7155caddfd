"""A stdlib-only Python for test doubles that run a container's command locally.

A real Batch job or Argo pod runs the step's image; the default `python:3.11` has only the standard
library, a fresh working directory, its own /tmp and no cached code package. The doubles (the Step
Functions harness, moto Batch, the Argo executor) run a task's real command on this machine, and
must not lend it the test venv's boto3, numpy or moto, nor a code package cached by an earlier task.

- `stdlib_python()`: the interpreter of a bare venv (`python3 -m venv --without-pip`, no system
  site-packages), created once per test session and shared by xdist workers (created under a
  lock-free atomic rename). Its `import boto3` fails, which `stdlib_python()` checks once.
- `interpreter_for(image, images)`: the interpreter for a step's image: the test's own mapping
  image -> interpreter when the image is declared there (flows that need numpy map their image to
  `sys.executable`), else the stdlib one.
- `task_sandbox(root, name)`: a fresh, empty working directory and TMPDIR for one task, and the
  environment entries that point the task (and the bootstrap's code cache, FLOWC_CODE_CACHE) at them.
- `clean_env(env)`: drop what would leak the test venv into the task (PYTHONPATH, PYTHONHOME,
  VIRTUAL_ENV, PYTHONSTARTUP, PYTHONUSERBASE).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Mapping, NamedTuple

_LEAKS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONSAFEPATH")
_cached: str | None = None


def _base_python() -> str:
    """The interpreter the venv is made from: the base of this (venv) interpreter, same version."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _venv_dir() -> Path:
    tag = hashlib.sha256(("%s|%s" % (_base_python(), sys.version)).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / ("flowc-stdlib-python-%d-%s" % (os.getuid(), tag))


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _is_stdlib_only(python: Path) -> bool:
    probe = ("import importlib.util as u, sys; "
             "sys.exit(1 if any(u.find_spec(m) for m in ('boto3', 'botocore', 'numpy', 'moto', 'pytest')) else 0)")
    env = clean_env(dict(os.environ))
    return subprocess.run([str(python), "-I", "-c", probe], env=env, cwd=tempfile.gettempdir(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def stdlib_python() -> str:
    """Path of a python interpreter that can import the standard library and nothing else."""
    global _cached
    if _cached is not None:
        return _cached
    venv = _venv_dir()
    python = _python_in(venv)
    if not (python.exists() and _is_stdlib_only(python)):
        staging = venv.with_name(venv.name + ".tmp-" + uuid.uuid4().hex[:8])
        subprocess.run([_base_python(), "-m", "venv", "--without-pip", str(staging)], check=True,
                       env=clean_env(dict(os.environ)), stdout=subprocess.DEVNULL)
        try:
            os.rename(staging, venv)  # atomic; another worker may have won the race
        except OSError:
            if not python.exists():
                shutil.rmtree(venv, ignore_errors=True)
                os.rename(staging, venv)
            else:
                shutil.rmtree(staging, ignore_errors=True)
        if not _is_stdlib_only(python):
            raise RuntimeError("%s can import third-party packages; it must be stdlib-only" % python)
    _cached = str(python)
    return _cached


def interpreter_for(image: str | None, images: Mapping[str, str] | None = None) -> str:
    """The interpreter standing in for `image`: the test's declared one, else stdlib-only."""
    if images and image in images:
        return images[image]
    return stdlib_python()


def clean_env(env: dict[str, str]) -> dict[str, str]:
    """`env` without the variables that would hand the task the test venv's packages."""
    return {k: v for k, v in env.items() if k not in _LEAKS}


class Sandbox(NamedTuple):
    cwd: str        # fresh, empty working directory
    tmpdir: str     # fresh /tmp stand-in
    env: dict       # TMPDIR/TMP/TEMP and FLOWC_CODE_CACHE pointing at tmpdir; HOME at cwd


def task_sandbox(root: str | os.PathLike, name: str) -> Sandbox:
    """A fresh working directory and TMPDIR for one task under `root` (unique per call)."""
    base = Path(root) / ("%s-%s" % ("".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60],
                                    uuid.uuid4().hex[:8]))
    cwd, tmp = base / "work", base / "tmp"
    cwd.mkdir(parents=True)
    tmp.mkdir()
    env = {"TMPDIR": str(tmp), "TMP": str(tmp), "TEMP": str(tmp), "FLOWC_CODE_CACHE": str(tmp),
           "HOME": str(cwd)}
    return Sandbox(str(cwd), str(tmp), env)
