"""@exit_hook under `flowc run`: the success hook after a successful run, the error hook after a
failed one, each given the run (it reads an artifact of the run through the client)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

FLOW = os.path.join(os.path.dirname(__file__), "flows", "deco", "exit_hook_flow.py")


@pytest.mark.parametrize("fail,event,rc", [(False, "success", 0), (True, "error", 1)])
def test_flowc_run_runs_the_exit_hook(tmp_path, fail, event, rc):
    shutil.copy(FLOW, tmp_path / "exit_hook_flow.py")
    out = tmp_path / "hooks.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["HOOK_OUT"] = str(out)
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", "run", "exit_hook_flow.py",
                           "--param", "fail=%s" % str(fail).lower()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == rc, proc.stdout + proc.stderr
    run_id = proc.stdout.strip().splitlines()[-1]
    assert out.read_text().splitlines() == ["hook-saw %s %s 7" % (event, run_id)]
