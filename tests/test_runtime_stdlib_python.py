"""tests/stdlib_python.py, the interpreter and sandbox every container double runs tasks with."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.stdlib_python import clean_env, interpreter_for, stdlib_python, task_sandbox


def test_the_stdlib_python_has_nothing_but_the_standard_library():
    python = stdlib_python()
    assert python != sys.executable and stdlib_python() == python          # one per session
    env = dict(clean_env(dict(os.environ, PYTHONPATH=os.getcwd())))
    assert "PYTHONPATH" not in env
    code = ("import importlib.util as u, json, sqlite3, ssl, zlib; "
            "print([m for m in ('boto3', 'botocore', 'numpy', 'yaml', 'moto', 'runtime_shim') if u.find_spec(m)])")
    proc = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


def test_images_map_to_declared_interpreters_else_stdlib():
    assert interpreter_for("python:3.11") == stdlib_python()
    assert interpreter_for("my/numpy:1", {"my/numpy:1": sys.executable}) == sys.executable
    assert interpreter_for(None, {"my/numpy:1": sys.executable}) == stdlib_python()


def test_each_task_gets_a_fresh_empty_sandbox(tmp_path):
    a, b = task_sandbox(tmp_path, "step/1"), task_sandbox(tmp_path, "step/1")
    assert a.cwd != b.cwd and a.tmpdir != b.tmpdir
    assert os.listdir(a.cwd) == [] and os.listdir(a.tmpdir) == []
    assert a.env["TMPDIR"] == a.env["FLOWC_CODE_CACHE"] == a.tmpdir and a.env["HOME"] == a.cwd
