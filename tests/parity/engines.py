"""Run one flow on each of the three engines and read every task back with the client.

- `flowc run`: compiler.runner.run_flow, with each task's process started in a fresh, empty
  working directory and TMPDIR (tests/stdlib_python.task_sandbox) instead of the flow's folder;
- the Argo executor (tests/argo_executor): every pod already runs in a fresh sandbox on a
  stdlib-only python;
- Step Functions on moto (tests/stepfunctions/moto_sfn.py): every Batch job runs its real
  container command in a fresh sandbox on a stdlib-only python.

Each engine records, per task, its argv, environment and working directory; `assert_isolated`
checks that none of them names the flow's folder, and that every task started in an empty
directory of its own. `snapshot` turns a finished run into plain data (steps, task ids, attempt,
status, and every public artifact's value) that can be compared across engines; timing metadata
and the run id are left out (the run id is replaced by a placeholder wherever a value holds it).
"""
from __future__ import annotations

import json
import os
import subprocess
import types
import uuid
from typing import Any

from tests.stdlib_python import clean_env, task_sandbox

RUN_ID = "<run-id>"


# --- reading runs back -------------------------------------------------------------------------
def canonical(value: Any, run_id: str) -> Any:
    """A value as comparable plain data: containers element-wise, strings with the run id
    replaced, anything else (exceptions, objects) as its type and repr."""
    if isinstance(value, str):
        return value.replace(run_id, RUN_ID)
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        return [type(value).__name__] + [canonical(v, run_id) for v in value]
    if isinstance(value, (set, frozenset)):
        return ["set"] + sorted((canonical(v, run_id) for v in value), key=repr)
    if isinstance(value, dict):
        return {"dict": sorted(([canonical(k, run_id), canonical(v, run_id)] for k, v in value.items()), key=repr)}
    return {"type": type(value).__qualname__, "repr": repr(value).replace(run_id, RUN_ID)}


def snapshot(flow_name: str, run_id: str, datastore: str) -> dict[str, dict[str, dict]]:
    """step -> task id -> {attempt, status, artifacts}: everything the client shows of a run."""
    from runtime_shim.client import Run

    run = Run("%s/%s" % (flow_name, run_id), datastore=datastore)
    out: dict[str, dict[str, dict]] = {}
    for step in run:
        tasks = {}
        for task in step.tasks():
            data = task.data
            tasks[task.id] = {"attempt": task.attempt, "status": task.status,
                              "artifacts": {n: canonical(getattr(data, n), run_id) for n in data.names()}}
        out[step.id] = tasks
    return out


def diff(a: dict, b: dict, names=("a", "b")) -> list[str]:
    """Human-readable differences between two snapshots (empty when identical)."""
    problems = []
    if sorted(a) != sorted(b):
        problems.append("steps: %s=%s %s=%s" % (names[0], sorted(a), names[1], sorted(b)))
    for step in sorted(set(a) & set(b)):
        if sorted(a[step]) != sorted(b[step]):
            problems.append("%s task ids: %s=%s %s=%s" % (step, names[0], sorted(a[step]), names[1], sorted(b[step])))
        for tid in sorted(set(a[step]) & set(b[step])):
            ta, tb = a[step][tid], b[step][tid]
            for key in ("attempt", "status"):
                if ta[key] != tb[key]:
                    problems.append("%s/%s %s: %s=%r %s=%r" % (step, tid, key, names[0], ta[key], names[1], tb[key]))
            arts_a, arts_b = ta["artifacts"], tb["artifacts"]
            if sorted(arts_a) != sorted(arts_b):
                problems.append("%s/%s artifact names: %s=%s %s=%s" % (step, tid, names[0], sorted(arts_a),
                                                                    names[1], sorted(arts_b)))
            for name in sorted(set(arts_a) & set(arts_b)):
                if arts_a[name] != arts_b[name]:
                    problems.append("%s/%s.%s: %s=%.300r %s=%.300r" % (step, tid, name, names[0], arts_a[name],
                                                                      names[1], arts_b[name]))
    return problems


# --- isolation ---------------------------------------------------------------------------------
def assert_isolated(tasks: list[dict], flow_dir: str, engine: str) -> None:
    """No task's argv, environment or cwd names the flow's folder, and each task has its own cwd."""
    flow_dir = os.path.realpath(flow_dir)
    assert tasks, "%s ran no task" % engine
    cwds = [t["cwd"] for t in tasks if t.get("cwd")]
    assert len(set(cwds)) == len(cwds), "%s: tasks shared a working directory" % engine
    for t in tasks:
        values = list(t.get("argv") or []) + list((t.get("env") or {}).values()) + [t.get("cwd") or ""]
        leaked = [v for v in values if flow_dir in os.path.realpath(str(v)) or flow_dir in str(v)]
        assert not leaked, "%s: a task was given the flow's folder %s: %s" % (engine, flow_dir, leaked)


# --- flowc run ---------------------------------------------------------------------------------
class _SandboxedPopen:
    """Stands in for `subprocess` in compiler.runner.local: every task process starts in a fresh,
    empty working directory with its own TMPDIR (as a container would), not in the flow's folder.
    Records (argv, env, cwd) of every task, and that the directory was empty when it started."""

    PIPE, STDOUT, DEVNULL = subprocess.PIPE, subprocess.STDOUT, subprocess.DEVNULL

    def __init__(self, root: str) -> None:
        self.root = root
        self.tasks: list[dict] = []

    def Popen(self, cmd, env=None, cwd=None, **kw):  # noqa: N802 - subprocess's name
        box = task_sandbox(self.root, "task")
        given = dict(env or {})
        env = clean_env(given)            # nothing of the test venv beyond what the runner sets:
        env["PYTHONPATH"] = given["PYTHONPATH"]         # the code package zip
        env["PYTHONSAFEPATH"] = given["PYTHONSAFEPATH"]
        env.pop("PWD", None)
        env.update(box.env)
        assert os.listdir(box.cwd) == []
        self.tasks.append({"argv": list(cmd), "env": env, "cwd": box.cwd, "was": cwd})
        return subprocess.Popen(cmd, env=env, cwd=box.cwd, **kw)


def run_local(path: str, params: dict[str, str], tmp_path, monkeypatch) -> tuple[str, list[dict]]:
    """`flowc run` of the flow; returns (run id, task records). Datastore: tmp_path/local-ds."""
    import io

    from compiler.runner import local, run_flow

    sandbox = _SandboxedPopen(str(tmp_path / "local-tasks"))
    fake = types.SimpleNamespace(Popen=sandbox.Popen, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT,
                                 DEVNULL=subprocess.DEVNULL, run=subprocess.run)
    monkeypatch.setattr(local, "subprocess", fake)
    root = "file://" + str(tmp_path / "local-ds")
    out = io.StringIO()
    msgs: list[str] = []
    code = run_flow(path, params=tuple("%s=%s" % kv for kv in params.items()), datastore=root,
                    package_include=(), stream=out, tty=False, echo=msgs.append)
    text = out.getvalue()
    assert code == 0, "\n".join(msgs) + "\n" + text
    run_id = text.strip().splitlines()[-1]
    for t in sandbox.tasks:
        # the package the task imports is the zip in the datastore, never the flow's folder
        assert t["env"]["PYTHONPATH"].endswith(".zip"), t["env"]["PYTHONPATH"]
    return run_id, sandbox.tasks


# --- Argo executor -------------------------------------------------------------------------------
def run_argo(path: str, params: dict[str, str], tmp_path, images: dict[str, str] | None = None
             ) -> tuple[str, str, list[dict]]:
    """The compiled Argo workflow on the executor; returns (run id, datastore, pod records)."""
    from tests.argo_executor.executor import SUCCEEDED
    from tests.argo_executor.harness import run_flow

    work = tmp_path / "argo"
    work.mkdir(exist_ok=True)
    ex, root, lines = run_flow(path, work, dict(params), images=images)
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-40:])
    assert all(p["argv"][1:4] == ["-m", "runtime_shim", "task"] for p in ex.pods)
    return ex.run_id, "file://%s/datastore" % work, ex.pods


# --- Step Functions on moto ----------------------------------------------------------------------
SFN_DATASTORE = "s3://flowc-parity/ds"


def run_sfn(path: str, params: dict[str, str], sfn_moto, monkeypatch, images: dict[str, str] | None = None,
            timeout: float = 240) -> tuple[str, str, list[dict]]:
    """The compiled state machine on moto; returns (run id, datastore, job records). The client
    then reads the run from moto's S3 (environment set for this test only)."""
    from compiler.pipeline import compile_file
    from tests.stepfunctions import helpers as h
    from tests.stepfunctions.moto_sfn import JOB_SETTINGS, JOBS

    settings = h.make_settings(datastore=SFN_DATASTORE, s3_endpoint=sfn_moto.endpoint, batch_queue="flowc-queue",
                               max_workers=32, batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(path, "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="parity-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    before = len(JOBS.jobs)
    for image, python in (images or {}).items():
        monkeypatch.setitem(JOB_SETTINGS.images, image, python)
    desc = sfn_moto.run(arn, run_id, dict(params), timeout=timeout)
    jobs = [j for j in JOBS.jobs[before:] if run_id in j.get("argv", [])]
    if desc["status"] != "SUCCEEDED":
        logs = "\n".join("--- %s exit %s\n%s" % (j["name"], j.get("exit_code"), j.get("stderr", "")[-2000:])
                         for j in jobs if j.get("exit_code"))
        raise AssertionError("%s: %s %s\n%s" % (desc["status"], desc.get("error"), str(desc.get("cause"))[:1500], logs))
    for key, value in (("AWS_ENDPOINT_URL", sfn_moto.endpoint), ("AWS_ACCESS_KEY_ID", "testing"),
                       ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    return run_id, SFN_DATASTORE, [{"argv": j["argv"]} for j in jobs]


def flow_of(path: str) -> tuple[str, str]:
    """(flow name, name of its end step)."""
    from compiler.runtime_spec import spec_for_file

    spec, diagnostics = spec_for_file(path)
    assert spec is not None, diagnostics
    return spec["flow_name"], spec["end"]


def dumps(snap: dict) -> str:
    return json.dumps(snap, sort_keys=True, default=repr, indent=1)
