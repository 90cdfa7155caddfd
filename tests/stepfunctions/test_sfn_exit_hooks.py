"""@exit_hook on Step Functions, executed on moto: the flow runs inside a one-branch Parallel; its
Catch-all runs the error hook job and fails the execution; after a successful run the success
hook job runs. The hook jobs are the end step's Batch job with the `hook` command."""
from __future__ import annotations

import json
import os
import uuid

from compiler.pipeline import compile_file
from tests.stepfunctions import helpers as h
from tests.stepfunctions.moto_sfn import JOBS

FLOW = os.path.join(h.ROOT, "tests", "flows", "deco", "exit_hook_flow.py")


def _compile(endpoint):
    settings = h.make_settings(datastore="s3://flowc-sfn-exec/ds", s3_endpoint=endpoint,
                               batch_queue="flowc-queue", batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(FLOW, "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return result


def test_exit_hook_states_validate(sfn_moto, tmp_path):
    result = _compile(sfn_moto.endpoint)
    asl = json.loads(next(f for f in result.files if f.name.endswith(".asl.json")).content)
    assert asl["States"]["Run"]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                              "Next": "ExitHookError"}]
    assert asl["States"]["ExitHookError"]["Next"] == "RunFailed"
    assert asl["States"]["Run"]["Next"] == "ExitHookSuccess"
    path = tmp_path / "hooks.asl.json"
    path.write_text(json.dumps(asl))
    h.asl_validate([str(path)])


def _run(sfn_moto, fail: bool):
    result = _compile(sfn_moto.endpoint)
    arn = sfn_moto.deploy(result, name="exithook-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    before = len(JOBS.jobs)
    desc = sfn_moto.run(arn, run_id, {"fail": "true" if fail else "false"}, timeout=240)
    jobs = [j for j in JOBS.jobs[before:] if run_id in j.get("argv", [])]
    hooks = [j for j in jobs if "hook" in j.get("argv", [])]
    return run_id, desc, hooks


def test_success_hook_runs_after_the_run_on_moto(sfn_moto):
    run_id, desc, hooks = _run(sfn_moto, fail=False)
    assert desc["status"] == "SUCCEEDED", desc
    assert len(hooks) == 1 and hooks[0]["exit_code"] == 0
    assert f"hook-saw success {run_id} 7" in hooks[0]["stdout"]


def test_error_hook_runs_after_a_failed_run_on_moto(sfn_moto):
    """The end step fails inside the Parallel: its Catch-all runs the error hook job, then the
    execution fails (RunFailed), and the success hook never runs. moto needs
    tests/doubles/moto_parallel_errors.py to propagate the branch's States.TaskFailed as AWS does."""
    run_id, desc, hooks = _run(sfn_moto, fail=True)
    assert desc["status"] == "FAILED", desc
    assert len(hooks) == 1 and hooks[0]["exit_code"] == 0, hooks
    assert f"hook-saw error {run_id} 7" in hooks[0]["stdout"]
    assert "hook-saw success" not in hooks[0]["stdout"]
