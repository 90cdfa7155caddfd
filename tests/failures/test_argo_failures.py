"""Issue 14 on Argo: the failing foreach flow compiled for Argo runs on the test executor
(tests/argo_executor, pods as local processes in empty directories): failure record and logs in
the datastore, `flowc logs` / `flowc show` on them, a fix, and a resumed run of the fixed
workflow that clones what succeeded. The run options reach the new Workflow as `flowc resume
--target argo` passes them (compiler/deploy/runs.py: written under the new run id while the
Workflow is suspended, before any pod); that command itself runs against the k8s double below."""
from __future__ import annotations

import os

from click.testing import CliRunner

from compiler.cli import main
from compiler.commands.resume import resume_options
from compiler.runtime_spec import spec_for_file
from runtime_shim.client import Run
from runtime_shim.datastore import FlowDatastore
from tests.argo_executor.executor import SUCCEEDED, Executor
from tests.argo_executor.harness import compile_docs
from tests.failures.flows import CLONED, RAISE_LINE, RERUN, executed_and_cloned, write


def _execute(docs, workdir, options_for=None):
    ex = Executor(docs, workdir=workdir, backoff_scale=0.0)
    os.makedirs(ex.workdir, exist_ok=True)
    if options_for is not None:
        options_for(ex.run_id)
    return ex, ex.run()


def test_argo_fail_logs_show_fix_resume(tmp_path):
    ds = "file://" + str(tmp_path / "datastore")
    flow = write(tmp_path / "flow.py", "ArgoFailFlow")
    ex, root = _execute(compile_docs(flow, ds), str(tmp_path / "exec1"))
    assert root.phase != SUCCEEDED
    run = Run("ArgoFailFlow/" + ex.run_id, datastore=ds)
    assert run.state == "failed" and not run.finished
    [failed] = run.failed_tasks()
    assert failed.step_name == "body" and failed.id == "t-1"
    assert (failed.exception.type, failed.exception.message) == ("ValueError", "bad item 2")
    # in a pod only the package exists: the frame names the flow's file in it, not a temp copy
    assert 'File "flow.py", line %d, in body' % RAISE_LINE in failed.exception.traceback
    assert "runtime_shim" not in failed.exception.traceback
    assert failed.stdout == "body item 2\n"

    cli = CliRunner()
    shown = cli.invoke(main, ["show", "ArgoFailFlow/" + ex.run_id, "--datastore", ds])
    assert shown.exit_code == 1, shown.output
    assert "FAILED body/t-1 (attempt 0): ValueError: bad item 2" in shown.output
    logs = cli.invoke(main, ["logs", "ArgoFailFlow/%s/body/t-1" % ex.run_id, "--stderr", "--datastore", ds])
    assert logs.exit_code == 0 and "ValueError: bad item 2" in logs.output

    fixed = write(tmp_path / "flow.py", "ArgoFailFlow", fixed=True)
    spec, _ = spec_for_file(fixed)
    options = resume_options(spec, run, None)
    assert options == {"origin_run_id": ex.run_id, "rerun": ["body"], "tags": []}
    store = FlowDatastore(ds, "ArgoFailFlow")
    ex2, root2 = _execute(compile_docs(fixed, ds), str(tmp_path / "exec2"),
                          lambda run_id: store.write_run_options(run_id, options))
    assert root2.phase == SUCCEEDED, root2.message
    new = Run("ArgoFailFlow/" + ex2.run_id, datastore=ds)
    assert new.successful and new.origin_run_id == ex.run_id and new.data.total == 14
    assert executed_and_cloned(new) == (RERUN, CLONED)
    # every pod of the cloned step still ran (the engine does not know); it cloned, not ran, the task
    starts = [p for p in ex2.pods if p["argv"][p["argv"].index("--step") + 1] == "start"]
    assert len(starts) == 1 and "cloned from %s/start/t" % ex.run_id in starts[0].get("log", "")
