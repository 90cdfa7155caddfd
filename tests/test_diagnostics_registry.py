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


def test_diagnostics_import_no_target_and_no_front_end():
    # The registry module is leaf data; targets register into it, never the reverse.
    r = _fresh("import sys\nfrom compiler.diagnostics.codes import all_codes\n"
               "loaded = [m for m in sys.modules if m.startswith(('compiler.targets', 'compiler.frontend'))]\n"
               "print(loaded)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_every_registry_entry_registers_its_codes_with_one_meaning():
    # Importing the targets in either order gives the same registry, and each code once.
    program = ("import json\nfrom compiler.diagnostics.codes import REGISTRY\n{first}\n"
               "from compiler.targets import load_all_codes\nload_all_codes()\n"
               "print(json.dumps({{k: repr(v) for k, v in sorted(REGISTRY.items())}}))")
    one = _fresh(program.format(first="import compiler.targets.stepfunctions"))
    two = _fresh(program.format(first="import compiler.targets.argo"))
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    registry = json.loads(one.stdout)
    assert registry == json.loads(two.stdout)
    assert any(k.startswith("FC3") for k in registry) and any(k.startswith("FC4") for k in registry)
