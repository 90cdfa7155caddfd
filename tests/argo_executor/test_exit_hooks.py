"""@exit_hook on Argo: the onExit handler runs the success or the error hook after the workflow
(the executor runs onExit as docs/exit-handlers.md describes)."""
from __future__ import annotations

import os

from .executor import SUCCEEDED
from .harness import run_flow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOW = os.path.join(ROOT, "tests", "flows", "deco", "exit_hook_flow.py")


def _hook_lines(tmp_path, fail):
    out = tmp_path / "hooks.txt"
    ex, root, lines = run_flow(FLOW, tmp_path, {"fail": "true" if fail else "false"},
                               extra_env={"HOOK_OUT": str(out)})
    assert ex.exit_node is not None and ex.exit_node.phase == SUCCEEDED, "\n".join(lines[-30:])
    return ex, root, out.read_text().splitlines()


def test_success_hook_runs_after_a_successful_run(tmp_path):
    ex, root, hooks = _hook_lines(tmp_path, fail=False)
    assert root.phase == SUCCEEDED
    assert hooks == [f"hook-saw success {ex.run_id} 7"]


def test_error_hook_runs_after_a_failed_run(tmp_path):
    ex, root, hooks = _hook_lines(tmp_path, fail=True)
    assert root.phase != SUCCEEDED
    assert ex.status in ("Failed", "Error")
    assert hooks == [f"hook-saw error {ex.run_id} 7"]
    assert [p["template"] for p in ex.pods][-1] == "flowc-exit-hooks-error"
