"""What Python's compile() refuses, flowc refuses (with a line and column); what Python accepts
(PEP 263 coding cookies), flowc accepts -- and the file then runs under flowc's runtime."""
from __future__ import annotations

import json

from click.testing import CliRunner

from compiler.cli import main

FLOW = '''{cookie}from metaflow import FlowSpec, step


class Café(FlowSpec):
    """{doc}"""

    @step
    def start(self):
        self.word = "{word}"
        self.next(self.end)

    @step
    def end(self):
        {end}
'''


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _check(path):
    r = CliRunner().invoke(main, ["check", "--format", "json", path])
    return r.exit_code, json.loads(r.stdout or "[]")


def test_latin1_coding_cookie_is_honoured(tmp_path):
    text = FLOW.format(cookie="# -*- coding: latin-1 -*-\n", doc="naïve", word="é", end="pass")
    path = _write(tmp_path, "latin.py", text.encode("latin-1"))
    code, diags = _check(path)
    assert code == 0, diags
    # without the cookie, the same bytes are not UTF-8: Python refuses them, so does flowc
    plain = _write(tmp_path, "plain.py", text.replace("# -*- coding: latin-1 -*-\n", "").encode("latin-1"))
    code, diags = _check(plain)
    assert code == 2 and diags[0]["code"] == "FC002" and "utf-8" in diags[0]["message"].lower()


def test_latin1_flow_compiles_and_runs(tmp_path, monkeypatch):
    text = FLOW.format(cookie="# coding: latin-1\n", doc="d", word="é", end="pass")
    path = _write(tmp_path, "latin.py", text.encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    compiled = CliRunner().invoke(main, ["compile", path, "-t", "argo"])
    assert compiled.exit_code == 0, compiled.output
    ran = CliRunner().invoke(main, ["run", path, "--datastore", "file://" + str(tmp_path / "ds"), "--run-id", "r1"])
    assert ran.exit_code == 0, ran.output
    from runtime_shim.client import Run

    assert Run("Café/r1", datastore="file://" + str(tmp_path / "ds")).data.word == "é"


def test_unknown_coding_cookie_is_a_read_error(tmp_path):
    path = _write(tmp_path, "bad.py", b"# coding: no-such-codec\nx = 1\n")
    code, diags = _check(path)
    assert code == 2 and diags[0]["code"] == "FC002" and "no-such-codec" in diags[0]["message"]


def test_nul_byte_is_refused_with_its_position(tmp_path):
    text = FLOW.format(cookie="", doc="d", word="w", end="pass").replace("pass", "pa\0ss")
    path = _write(tmp_path, "nul.py", text.encode())
    code, diags = _check(path)
    assert code == 1
    (d,) = diags
    assert d["code"] == "FC001" and "null byte" in d["message"]
    assert (d["line"], d["col"]) == (14, 11)
    for command in (["compile", path, "-t", "argo"], ["graph", path]):
        r = CliRunner().invoke(main, command)
        assert r.exit_code == 1 and "null byte" in r.output, r.output


def test_what_compile_refuses_is_refused(tmp_path):
    # libcst parses all of these; CPython's compiler refuses them
    cases = {"return 1\n": ("'return' outside function", 1, 1),
             "def f():\n    nonlocal x\n": ("no binding for nonlocal 'x' found", 2, 5),
             "for i in []:\n    pass\nbreak\n": ("'break' outside loop", 3, 1)}
    for i, (body, (message, line, col)) in enumerate(cases.items()):
        src = FLOW.format(cookie="", doc="d", word="w", end="pass") + "\n" + body
        first = src.count("\n") - body.count("\n") + 1
        code, diags = _check(_write(tmp_path, f"c{i}.py", src.encode()))
        assert code == 1, (body, diags)
        assert diags[0]["code"] == "FC001" and message in diags[0]["message"], diags
        assert (diags[0]["line"], diags[0]["col"]) == (first + line - 1, col), diags
