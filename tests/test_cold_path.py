"""The cold compile path does no work it does not need: no tomllib when pyproject.toml has no
flowc table, no traceback unless flowc fails; and the shortcut that skips the TOML parse never
skips a [tool.flowc] table, however it is spelled."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.settings import _read_pyproject_table, resolve

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "examples" / "hello.py"

PROBE = ("import sys\nsys.argv = ['flowc', 'compile', %r, '-t', 'argo']\n"
         "from compiler.cli import main\n"
         "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
         "print('MODULES=' + ' '.join(m for m in ('tomllib', 'traceback') if m in sys.modules), file=sys.stderr)\n"
         "sys.exit(code)\n")


def _cold_compile_modules(tmp_path, pyproject: str | None) -> set[str]:
    d = tmp_path / "p"
    d.mkdir()
    (d / "hello.py").write_bytes(HELLO.read_bytes())
    if pyproject is not None:
        (d / "pyproject.toml").write_text(pyproject)
    env = dict(os.environ, FLOWC_NO_CACHE="1")
    p = subprocess.run([sys.executable, "-c", PROBE % str(d / "hello.py")], cwd=str(d), env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("MODULES=")][-1]
    return set(line[len("MODULES="):].split())


def test_a_pyproject_without_flowc_is_not_parsed(tmp_path):
    assert _cold_compile_modules(tmp_path, '[project]\nname = "x"\n') == set()


def test_a_pyproject_with_a_flowc_table_is_parsed(tmp_path):
    assert "tomllib" in _cold_compile_modules(tmp_path, '[tool.flowc]\nimage = "python:3.12"\n')


@pytest.mark.parametrize("text", [
    '[tool.flowc]\nimage = "a:1"\n',
    '[tool]\nflowc = { image = "a:1" }\n',
    'tool.flowc.image = "a:1"\n',
    '[tool."flo\\u0077c"]\nimage = "a:1"\n',          # the key spelled with an escape
    '[tool."flo\\U00000077c"]\nimage = "a:1"\n',
    '[tool.flowc]\r\nimage = "a:1"\r\n',
])
def test_every_spelling_of_the_table_is_read(tmp_path, text):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(text.encode())
    assert _read_pyproject_table(path) == {"image": "a:1"}
    assert resolve(flow_dir=tmp_path, environ={}).image == "a:1"


def test_no_table_and_bad_files_read_as_empty(tmp_path):
    path = tmp_path / "pyproject.toml"
    for data in (b'[project]\nname = "flowc-user"\n', b"\xff\xfe not utf-8 flowc", b"[tool.flowc\n"):
        path.write_bytes(data)
        assert _read_pyproject_table(path) == {}
    assert _read_pyproject_table(tmp_path / "absent.toml") == {}
