import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.diagnostics.codes import REGISTRY

HERE = Path(__file__).parent / "flows"
VALID = str(HERE / "shared" / "valid" / "hello.py")
INVALID = str(HERE / "shared" / "invalid" / "unknown_next.py")


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_exit_codes():
    assert run("check", VALID).exit_code == 0
    assert run("check", INVALID).exit_code == 1
    assert run("check", "/nonexistent/flow.py").exit_code == 2
    assert run("check", "--format", "nope", VALID).exit_code == 2
    assert run("check", str(HERE / "invalid_own" / "fc204_unknown_deco.py")).exit_code == 0


def test_text_caret():
    r = run("check", INVALID)
    lines = r.output.splitlines()
    assert lines[0].endswith("FC109 `self.evaluate` is not a step of the flow; did you mean `self.evaluation`?")
    assert ":9:19:" in lines[0]
    assert lines[1].strip() == "self.next(self.evaluate)"
    assert lines[2].index("^") == lines[1].index("self.evaluate")


def test_json_and_github():
    r = run("check", "--format", "json", INVALID)
    data = json.loads(r.output)
    assert data[0]["code"] == "FC109" and data[0]["line"] == 9
    r = run("check", "--format", "github", INVALID)
    assert r.output.startswith("::error file=") and "line=9" in r.output and "title=FC109::" in r.output


def test_flow_option_and_unreadable(tmp_path):
    two = str(HERE / "invalid_own" / "fc004_two_flows.py")
    assert run("check", two).exit_code == 1
    assert run("check", "--flow", "B", two).exit_code == 0
    r = run("check", "--flow", "Zed", two)
    assert r.exit_code == 1 and "FC005" in r.output
    bad = tmp_path / "latin.py"
    bad.write_bytes(b"x = '\xff\xfe'\n")
    r = run("check", str(bad))
    assert r.exit_code == 2 and "FC002" in r.output


def test_explain_every_code():
    from compiler.targets import load_all_codes

    load_all_codes()      # the targets' codes too (explain loads them; not while iterating)
    for code in list(REGISTRY):
        r = run("explain", code)
        assert r.exit_code == 0 and code in r.output
    assert run("explain", "FC999").exit_code == 2
    assert "FC109" in run("explain", "--list").output


def test_graph_formats():
    p = str(HERE / "shared" / "valid" / "switch.py")
    r = run("graph", p)
    assert r.exit_code == 0 and r.output.startswith("flowchart TD") and '|"large"|' in r.output
    r = run("graph", "--format", "dot", str(HERE / "shared" / "valid" / "foreach.py"))
    assert r.exit_code == 0 and r.output.startswith("digraph") and 'label="foreach words"' in r.output
    assert run("graph", "/missing.py").exit_code == 2


def test_help():
    for cmd in ("check", "graph", "explain"):
        assert run(cmd, "--help").exit_code == 0


def test_internal_error_exit_code(monkeypatch):
    import compiler.frontend.parse as parse

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(parse, "parse_source", boom)
    monkeypatch.setenv("FLOWC_NO_CACHE", "1")      # a cached analysis would not reach the parser
    r = run("check", VALID)
    assert r.exit_code == 70 and "internal error" in r.output and "Traceback" not in r.output


def test_check_does_not_import_heavy_modules():
    code = ("import sys; from compiler.cli import main; "
            "sys.argv=['flowc','check','%s']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "bad=[m for m in ('boto3','kubernetes','networkx','jinja2') if m in sys.modules]\n"
            "assert not bad, bad" % VALID)
    subprocess.run([sys.executable, "-c", code], check=True)
