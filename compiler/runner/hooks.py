"""@exit_hook under `flowc run`: after the run, the success or the error functions run in one
process of the runtime (`python -m runtime_shim hook`, runtime_shim/hook.py), as Argo's onExit
handler and the Step Functions hook job run them. A failing hook is reported; the run's result
stays what its steps made it."""
from __future__ import annotations

import subprocess
from typing import Any


def hook_command(runner: Any, event: str) -> list[str] | None:
    names = [fn for e, fn in runner.spec.get("exit_hooks") or () if e == event]
    if not names:
        return None
    cmd = [runner.python, "-m", "runtime_shim", "hook", "--datastore", runner.datastore,
           "--run-id", runner.run_id, "--event", event]
    for name in names:
        cmd += ["--function", name]
    return cmd


def run_exit_hooks(runner: Any) -> int | None:
    """Run the hooks of the run's outcome; their exit code, or None when there are none."""
    event = "error" if runner.failed else "success"
    cmd = hook_command(runner, event)
    if cmd is None:
        return None
    proc = subprocess.run(cmd, env=runner.base_env, cwd=runner.cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, errors="replace")
    for line in proc.stdout.splitlines():
        runner.progress.line("[%s/exit_hook] %s" % (runner.run_id, line))
    if proc.returncode:
        runner.progress.line("[flowc] the %s exit hook failed (exit %d)" % (event, proc.returncode))
    return proc.returncode
