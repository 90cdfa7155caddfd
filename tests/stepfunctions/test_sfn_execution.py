"""Step Functions target, executed: every runnable shared flow runs end to end on moto's ASL
interpreter, each Batch job running its real container command as a local process (see
moto_sfn.py for exactly what is simulated). The flows assert their own results in their `end`
step, so SUCCEEDED means the data flowed correctly through the datastore.
"""
from __future__ import annotations

import json
import os
import uuid
from collections import Counter

import pytest

from compiler.pipeline import compile_file
from tests.stepfunctions import helpers as h
from tests.stepfunctions.moto_sfn import JOBS

TABLE = open(os.path.join(h.SHARED_VALID, "table.csv"), encoding="utf-8").read()

# flow file -> list of (execution input, expected branch steps or None)
RUNS = {
    "shared/valid/hello.py": [{}],
    "shared/valid/branch.py": [{}],
    "shared/valid/foreach.py": [{}],
    "shared/valid/nested_foreach.py": [{}],
    "shared/valid/parameters.py": [{"who": "flowc"}],
    "shared/valid/retry_catch_timeout.py": [{}],
    "shared/valid/switch.py": [{}, {"threshold": "5"}],
    "shared/valid/scheduled.py": [{}],
    "shared/valid/wide_foreach.py": [{"width": "12"}],
    "shared/valid/mixed_nesting.py": [{}],
    "shared/valid/static_config.py": [{}],
    # IncludeFile: a remote run passes the file's content (the client reads it), per the contract.
    "shared/valid/include_file.py": [{"table": TABLE}],
    "valid_own/recursive_switch.py": [{}],
    "valid_own/recursive_switch_foreach.py": [{}],
    "valid_own/foreach_in_switch.py": [{}],
    "valid_own/nested_switch.py": [{}],
    "valid_own/branch_in_switch.py": [{}],
}

def _settings(endpoint: str):
    return h.make_settings(datastore="s3://flowc-sfn-exec/ds", s3_endpoint=endpoint, batch_queue="flowc-queue",
                           max_workers=32, batch_job_role_arn=None, sfn_role_arn=None)


def _deploy(sfn_moto, rel: str):
    path = os.path.join(h.ROOT, "tests", "flows", rel)
    result = compile_file(path, "stepfunctions", settings=_settings(sfn_moto.endpoint))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    name = os.path.basename(rel)[:-3] + "-" + uuid.uuid4().hex[:8]
    return result, sfn_moto.deploy(result, name=name)


def _transitions(events) -> int:
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def _execute(sfn_moto, arn, input_, timeout=240):
    run_id = "r" + uuid.uuid4().hex[:12]
    before = len(JOBS.jobs)
    desc = sfn_moto.run(arn, run_id, input_, timeout=timeout)
    jobs = [j for j in JOBS.jobs[before:] if any(run_id == a for a in j.get("argv", []))]
    if desc["status"] != "SUCCEEDED":
        errors = [j for j in JOBS.jobs[before:] if "error" in j]    # the double itself failed
        logs = "\n".join(f"--- {j['name']} exit {j.get('exit_code')}\n{j.get('stdout', '')[-1500:]}\n"
                         f"{j.get('stderr', '')[-3000:]}" for j in jobs if j.get("exit_code"))
        logs += "\n" + "\n".join(f"--- {j['name']}: {j['error']}" for j in errors)
        logs += "\njobs of this run: %s" % [(j["name"], j["argv"][-5:], j["exit_code"]) for j in jobs]
        pytest.fail(f"{desc['status']}: {desc.get('error')} {str(desc.get('cause'))[:1500]}\n{logs}")
    return desc, jobs


def _override_sizes(events) -> list[int]:
    sizes = []
    for e in events:
        details = e.get("taskScheduledEventDetails")
        if details and details.get("resourceType") == "batch":
            overrides = json.loads(details["parameters"])["ContainerOverrides"]
            overrides["Environment"] = [v for v in overrides.get("Environment", []) if "MANAGED_BY_AWS" not in (v.get("Name"), v.get("name"))]
            if not overrides["Environment"]:
                del overrides["Environment"]
            sizes.append(len(json.dumps(overrides, separators=(",", ":"))))
    return sizes


def _transitions_per_task(desc, jobs, definition) -> dict:
    """Transitions per task (goal <= 3), for this one execution: states entered in the parent history (measured; moto keeps no history
    for distributed-Map child executions) plus, inside Maps, one Task state per job and the
    switch helper states (derived from the jobs that ran there)."""
    events = desc["events"]
    parent = _transitions(events)
    parent_jobs = sum(1 for e in events if e["type"] == "TaskSubmitted"
                      and e["taskSubmittedEventDetails"].get("resourceType") == "batch")
    child_jobs = len(jobs) - parent_jobs
    text = json.dumps(definition or {})
    parent_steps = [json.loads(e["taskScheduledEventDetails"]["parameters"])["JobName"] for e in events
                    if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"].get("resourceType") == "batch"]
    child = Counter(j["name"] for j in jobs) - Counter(parent_steps)
    child_extra = 0
    for job in jobs:
        if child.get(job["name"], 0) <= 0:
            continue
        step = job["argv"][job["argv"].index("--step") + 1]
        child_extra += 2 * (f'"{step}.read"' in text)           # switch: read + choose
        child_extra += (f'"{step}.foreach"' in text) + (f'"{step}.split"' in text)   # nested Map / Parallel
        if "--iteration" in job["argv"] and job["argv"][job["argv"].index("--iteration") + 1] != "0":
            child_extra += 1                                    # the loop Pass before this iteration
    total = parent + child_jobs + child_extra
    return {"tasks": len(jobs), "parent_transitions": parent, "transitions": total,
            "per_task": round(total / max(1, len(jobs)), 2),
            "max_override_chars": max(_override_sizes(events) or [0])}


@pytest.mark.parametrize("rel", sorted(RUNS))
def test_flow_runs_on_step_functions(sfn_moto, rel):
    result, arn = _deploy(sfn_moto, rel)
    definition = json.loads(result.files[0].content)
    for i, input_ in enumerate(RUNS[rel]):
        desc, jobs = _execute(sfn_moto, arn, input_)
        assert jobs and all(j["exit_code"] == 0 for j in jobs if "retry" not in rel), \
            [(j["name"], j["exit_code"]) for j in jobs]
        stats = _transitions_per_task(desc, jobs, definition)
        assert stats["per_task"] <= 3, (f"{rel}#{i}", stats)
        assert max(_override_sizes(desc["events"])) <= 1024 + len(json.dumps(input_)), _override_sizes(desc["events"])


def test_switch_takes_both_ways(sfn_moto):
    _, arn = _deploy(sfn_moto, "shared/valid/switch.py")
    _, jobs = _execute(sfn_moto, arn, {})
    names = {j["name"] for j in jobs}
    assert "SwitchFlow-small" in names and "SwitchFlow-large" not in names, names
    _, jobs = _execute(sfn_moto, arn, {"threshold": "5"})
    names = {j["name"] for j in jobs}
    assert "SwitchFlow-large" in names and "SwitchFlow-small" not in names, names


def test_retry_attempt_numbers_reach_the_runtime(sfn_moto):
    _, arn = _deploy(sfn_moto, "shared/valid/retry_catch_timeout.py")
    _, jobs = _execute(sfn_moto, arn, {})
    flaky = [j for j in jobs if j["name"].endswith("-flaky")]
    assert [j["exit_code"] for j in flaky] == [1, 0]
    attempts = [j["argv"][j["argv"].index("--attempt") + 1] for j in flaky]
    assert attempts == ["0", "1"]


def test_wide_foreach_200(sfn_moto):
    result, arn = _deploy(sfn_moto, "shared/valid/wide_foreach.py")
    desc, jobs = _execute(sfn_moto, arn, {}, timeout=600)   # default width: 200
    assert sum(1 for j in jobs if j["name"].endswith("-square")) == 200
    stats = _transitions_per_task(desc, jobs, json.loads(result.files[0].content))
    assert stats["per_task"] <= 3, stats


IMAGE_FLOW = '''
from metaflow import FlowSpec, batch, step


class ImageFlow(FlowSpec):
    @batch(image="flowc-test/with-yaml:1")
    @step
    def start(self):
        import yaml   # in the test venv, not in the default image's stdlib-only python
        self.doc = yaml.safe_load("a: 1")
        self.next(self.end)

    @step
    def end(self):
        import importlib.util
        assert importlib.util.find_spec("boto3") is None, "the default image has only the standard library"
        assert self.doc == {"a": 1}
'''


def test_jobs_run_as_fresh_stdlib_containers(sfn_moto, tmp_path):
    """Jobs run on a stdlib-only python unless the test maps their image; every S3 request they
    send passes the signature verifier; the five credential sources are all used."""
    import sys

    from tests.stepfunctions.moto_sfn import JOB_SETTINGS

    flow = tmp_path / "image_flow.py"
    flow.write_text(IMAGE_FLOW)
    result = compile_file(str(flow), "stepfunctions", settings=_settings(sfn_moto.endpoint))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="image-flow-" + uuid.uuid4().hex[:8])
    rejected_before = len(sfn_moto.s3_verifier.rejected)
    desc = sfn_moto.run(arn, "r" + uuid.uuid4().hex[:12], {})
    assert desc["status"] == "FAILED"          # `import yaml` on the default image's python
    failed = [j for j in JOBS.jobs if j.get("name") == "ImageFlow-start"]
    assert "ModuleNotFoundError: No module named 'yaml'" in failed[-1]["stderr"]

    JOB_SETTINGS.images["flowc-test/with-yaml:1"] = sys.executable
    try:
        first = len(JOB_SETTINGS.ran)
        _execute(sfn_moto, arn, {})
        _, arn2 = _deploy(sfn_moto, "shared/valid/foreach.py")
        _execute(sfn_moto, arn2, {})
        ran = JOB_SETTINGS.ran[first:]
    finally:
        del JOB_SETTINGS.images["flowc-test/with-yaml:1"]
    pythons = {j["name"]: j["python"] for j in ran}
    assert pythons["ImageFlow-start"] == sys.executable
    from tests.stdlib_python import stdlib_python

    assert {p for n, p in pythons.items() if n != "ImageFlow-start"} == {stdlib_python()}
    assert {j["source"] for j in ran} == {"static", "container", "pod-identity", "web-identity", "imds"}
    assert sfn_moto.s3_verifier.rejected[rejected_before:] == []
    assert len(sfn_moto.s3_verifier.received) > 0
