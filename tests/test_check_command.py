"""`flowc check` reports what `compile` reports for any target: the front end's diagnostics and,
for a flow without errors, what lowering finds (@trigger problems, IncludeFile defaults outside
the flow's folder); it takes compile's --config / --config-value / --resolve-env."""
from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRIGGER = '''from metaflow import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "data ready", "parameters": {"alpha": "field"}})
class BadTrig(FlowSpec):
    alpha = Parameter("alpha", default=1)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''

CONFIG = '''from metaflow import Config, FlowSpec, resources, step


class Cfg(FlowSpec):
    cfg = Config("cfg", default="cfg.json")

    @resources(cpu=cfg.cpu)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _check(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=ROOT, FLOWC_NO_CACHE="1")
    return subprocess.run([sys.executable, "-m", "compiler.cli", "check", *args], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=120, env=env)


def test_check_reports_trigger_problems_as_compile_does(tmp_path):
    (tmp_path / "trig.py").write_text(TRIGGER)
    done = _check(tmp_path, "trig.py", "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    found = [(d["code"], d["line"]) for d in json.loads(done.stdout)]
    assert ("FC242", 4) in found, found


def test_check_takes_config_flags(tmp_path):
    (tmp_path / "flow.py").write_text(CONFIG)
    (tmp_path / "other.json").write_text('{"cpu": 2}')
    missing = _check(tmp_path, "flow.py")
    assert missing.returncode == 1 and "FC250" in missing.stdout + missing.stderr
    given = _check(tmp_path, "flow.py", "--config", "cfg", "other.json")
    assert given.returncode == 0, given.stdout + given.stderr
    bad = _check(tmp_path, "flow.py", "--config-value", "cfg", '{"cpu": -1}')
    assert bad.returncode == 1 and "FC202" in bad.stdout + bad.stderr, bad.stdout + bad.stderr


def test_check_refuses_an_include_file_outside_the_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "secret.txt").write_text("x")
    (tmp_path / "sub" / "flow.py").write_text('''from metaflow import FlowSpec, IncludeFile, step


class Inc(FlowSpec):
    data = IncludeFile("data", default="../secret.txt")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    done = _check(tmp_path, "sub/flow.py")
    assert done.returncode == 1 and "FC213" in done.stdout + done.stderr
