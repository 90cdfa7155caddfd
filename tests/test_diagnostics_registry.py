"""Every diagnostic code flowc can print is known to `flowc explain`, whatever was imported first."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_RE = re.compile(r"\bFC\d{3}\b")


def _codes_in_source() -> set[str]:
    found: set[str] = set()
    for folder in ("compiler", "runtime_shim"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(CODE_RE.findall(path.read_text(encoding="utf-8")))
    return found


def _fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_every_code_in_the_source_is_explained_in_a_fresh_process():
    source_codes = _codes_in_source()
    assert {"FC000", "FC101", "FC307", "FC410", "FC501"} <= source_codes   # the grep itself works
    # A fresh interpreter that imported nothing else: what `flowc explain --list` would list.
    r = _fresh("import json\nfrom click.testing import CliRunner\n"
               "from compiler.commands.explain import explain\n"
               "out = CliRunner().invoke(explain, ['--list']).output\n"
               "print(json.dumps([line.split()[0] for line in out.splitlines() if line.strip()]))")
    assert r.returncode == 0, r.stderr
    listed = set(json.loads(r.stdout))
    assert sorted(source_codes - listed) == []


def test_explain_a_target_code_first_thing_in_a_fresh_process():
    # FC307 is the warning the README's first command prints; it lives in the Argo target.
    r = subprocess.run([sys.executable, "-m", "compiler.cli", "explain", "FC307"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("FC307 (")
    assert "What:" in r.stdout


def test_explain_loads_no_target_and_no_front_end():
    r = _fresh("import sys\nfrom compiler.diagnostics.codes import all_codes\n"
               "codes = [c.code for c in all_codes()]\n"
               "assert 'FC307' in codes and 'FC401' in codes, codes\n"
               "loaded = [m for m in sys.modules if m.startswith(('compiler.targets', 'compiler.frontend'))]\n"
               "print(loaded)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_loading_after_a_target_import_keeps_one_meaning_per_code():
    # The target module first (registers its codes), then load_all: no second, different meaning.
    r = _fresh("import compiler.targets.stepfunctions\n"
               "from compiler.diagnostics.codes import all_codes, REGISTRY\n"
               "before = dict(REGISTRY)\n"
               "all_codes()\n"
               "assert all(REGISTRY[k] == v for k, v in before.items())\n"
               "print(len(REGISTRY))")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) > 60
