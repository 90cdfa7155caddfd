"""Step Functions target: static checks of what it emits (no execution)."""
from __future__ import annotations

import json
import os
import re

import pytest

from compiler.ir import Compute, FlowPlan, Retry, Schedule, StepPlan
from compiler.targets.base import CodePackageRef
from compiler.targets.stepfunctions import StepFunctionsTarget, aws_cron, override_sizes
from compiler.compute import batch as batchmod
from compiler.compute.container import COMMAND_PREFIX
from compiler.targets.stepfunctions import codes
from tests.stepfunctions import helpers as h

ALL_FLOWS = h.shared_flows() + h.own_flows()


def _ids(paths):
    return [os.path.relpath(p, h.ROOT) for p in paths]


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """Every shared + own valid flow compiled once, written to a temp dir."""
    out = tmp_path_factory.mktemp("sfn")
    result = {}
    for path in ALL_FLOWS:
        files, diags = h.emit(path)
        assert files, (path, [(d.code, d.message) for d in diags])
        sub = out / os.path.basename(path)[:-3]
        sub.mkdir()
        for f in files:
            (sub / f.name).write_bytes(f.content)
        result[path] = (files, diags, sub)
    return result


def test_asl_validator_accepts_every_definition(emitted):
    paths = [str(sub / f.name) for files, _, sub in emitted.values() for f in files if f.name.endswith(".asl.json")]
    assert len(paths) == len(ALL_FLOWS)
    h.asl_validate(paths)


def test_job_definitions_pass_botocore_validation(emitted):
    count = 0
    for files, _, _ in emitted.values():
        for f in files:
            if f.name.endswith(".jobdef.json"):
                request = json.loads(f.content)
                h.validate_request("batch", "RegisterJobDefinition", request)
                assert re.fullmatch(r"flowc-[a-z0-9_-]+-[0-9a-f]{12}", request["jobDefinitionName"])
                assert len(request["jobDefinitionName"]) <= 128
                assert "Ref::" not in f.content.decode()
                count += 1
    assert count >= len(ALL_FLOWS)


def test_schedule_and_policy(emitted):
    files, _, _ = emitted[os.path.join(h.SHARED_VALID, "scheduled.py")]
    by_name = {f.name: f for f in files}
    sched_name = next(n for n in by_name if n.endswith(".schedule.json"))
    request = json.loads(by_name[sched_name].content)
    h.validate_request("scheduler", "CreateSchedule", request)
    assert request["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert request["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert not by_name[sched_name].stdout
    for path, (files, _, _) in emitted.items():
        policy = next(f for f in files if f.name.endswith(".policy.json"))
        doc = json.loads(policy.content)
        assert doc["Version"] == "2012-10-17"
        actions = {a for s in doc["Statement"] for a in s["Action"]}
        assert {"batch:SubmitJob", "batch:DescribeJobs", "s3:GetObject", "states:StartExecution"} <= actions


def test_only_definition_on_stdout(emitted):
    for files, _, _ in emitted.values():
        assert [f.name.endswith(".asl.json") for f in files if f.stdout] == [True]


def _golden_files():
    out = {}
    for path in h.shared_flows():
        files, _ = h.emit(path)
        stem = os.path.basename(path)[:-3]      # two files may hold flows of the same name
        for f in files:
            out[f"{stem}/{f.name}"] = f.content
    return out


def test_golden():
    """golden/stepfunctions/ holds the output of every shared valid flow (fixed code package).
    FLOWC_REGENERATE_GOLDEN=1 rewrites it on purpose; never in CI."""
    files = _golden_files()
    if os.environ.get("FLOWC_REGENERATE_GOLDEN") == "1":
        assert not os.environ.get("CI"), "never regenerate golden files in CI"
        import shutil

        shutil.rmtree(h.GOLDEN_DIR, ignore_errors=True)
        for name, content in files.items():
            os.makedirs(os.path.dirname(h.golden_path(name)), exist_ok=True)
            with open(h.golden_path(name), "wb") as handle:
                handle.write(content)
        files = _golden_files()     # compare what was written with a second emission, not with itself
    on_disk = sorted(os.path.relpath(os.path.join(d, f), h.GOLDEN_DIR)
                     for d, _, fs in os.walk(h.GOLDEN_DIR) for f in fs)
    assert on_disk == sorted(files), "golden/stepfunctions is stale: FLOWC_REGENERATE_GOLDEN=1 pytest " + __file__
    for name, content in files.items():
        with open(h.golden_path(name), "rb") as handle:
            assert handle.read() == content, f"{name} differs from golden (FLOWC_REGENERATE_GOLDEN=1 to accept)"


def test_byte_identical_between_runs():
    for path in h.shared_flows():
        a, _ = h.emit(path)
        b, _ = h.emit(path)
        assert [(f.name, f.content) for f in a] == [(f.name, f.content) for f in b]


# --- hand-built plans ---------------------------------------------------------------------------

def _step(name, kind, nxt, in_=(), depth=0, **kw):
    compute = kw.pop("compute", Compute(backend=None))
    return StepPlan(name=name, kind=kind, next=list(nxt), in_=list(in_), depth=depth, compute=compute, **kw)


def _plan(steps, name="HandFlow", **kw):
    return FlowPlan(flow_name=name, flow_file="hand.py", path="hand.py", start=steps[0].name,
                    end=steps[-1].name, steps={s.name: s for s in steps}, parameters=[],
                    settings=h.make_settings(), **kw)


def _foreach_plan():
    return _plan([
        _step("start", "foreach", ["body"], foreach_var="items", matching_join="join"),
        _step("body", "linear", ["join"], ["start"], depth=1),
        _step("join", "join", ["end"], ["body"], join_of="start", join_kind="foreach"),
        _step("end", "end", [], ["join"]),
    ])


def test_wide_foreach_definition_size_does_not_depend_on_width():
    """Width is data (foreach.json in S3), never part of the definition: a 10,000-way foreach
    and a 2-way foreach compile to the same bytes."""
    plan = _foreach_plan()
    target = StepFunctionsTarget(plan.settings)
    assert not [d for d in target.check(plan) if d.is_error]
    files = target.emit(plan, h.GOLDEN_PACKAGE)
    definition = files[0].content
    assert len(definition) < 16_000
    doc = json.loads(definition)
    m = doc["States"]["start.foreach"]
    assert m["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert m["MaxConcurrency"] == 100 and "ResultWriter" in m and m["ResultPath"] is None
    # The compiled wide_foreach flow itself has no width in it at all.
    wide, _ = h.emit(os.path.join(h.SHARED_VALID, "wide_foreach.py"))
    assert b"10000" not in wide[0].content


def test_override_sizes_are_small():
    for path in h.shared_flows() + h.own_flows():
        files, _ = h.emit(path)
        definition = json.loads(files[0].content)
        from compiler.runtime_spec import plan_for_file

        plan, _ = plan_for_file(path, None, h.make_settings())
        sizes = override_sizes(plan, definition)
        for step, size in sizes.items():
            budget = 4096 + 1024 if step == plan.start else 1024
            assert size <= budget, (path, step, size)


def test_kubernetes_without_cluster_is_a_diagnostic():
    plan = _plan([
        _step("start", "start", ["train"]),
        _step("train", "linear", ["end"], ["start"], compute=Compute(backend="kubernetes", cpu=8, memory=16000, gpu=1)),
        _step("end", "end", [], ["train"]),
    ])
    settings = h.make_settings(eks_cluster=None)
    diags = StepFunctionsTarget(settings).check(plan)
    eks = [d for d in diags if d.code == codes.NO_EKS_CLUSTER]
    assert len(eks) == 1 and "train" in eks[0].message and "FLOWC_EKS_CLUSTER" in eks[0].message
    assert eks[0].is_error


def test_kubernetes_with_cluster_runs_on_eks():
    plan = _plan([
        _step("start", "start", ["train"]),
        _step("train", "linear", ["end"], ["start"], compute=Compute(backend="kubernetes", cpu=8, memory=16000, gpu=1,
                                                                        namespace="ml")),
        _step("end", "end", [], ["train"]),
    ])
    target = StepFunctionsTarget(plan.settings)
    assert not [d for d in target.check(plan) if d.is_error]
    files = target.emit(plan, h.GOLDEN_PACKAGE)
    states = json.loads(files[0].content)["States"]
    assert states["start"]["Next"] == "train.cluster"
    run = states["train"]
    assert run["Resource"] == "arn:aws:states:::eks:runJob.sync"
    assert run["Parameters"]["ClusterName"] == "flowc-eks"
    container = run["Parameters"]["Job"]["spec"]["template"]["spec"]["containers"][0]
    # MiB, as on Argo and Batch (compiler.compute.units): "16000M" was 4.6% less memory
    assert container["resources"]["limits"] == {"cpu": "8", "memory": "16000Mi", "nvidia.com/gpu": "1"}
    assert run["Parameters"]["Namespace"] == "ml"
    # No Batch job definition is registered for the EKS step alone.
    assert all("train" not in f.name for f in files)
    h.validate_request("batch", "RegisterJobDefinition", json.loads(files[1].content))


def test_limits_are_diagnostics():
    long_flow = "F" * 90
    plan = _plan([_step("start", "start", ["end"]), _step("end", "end", [], ["start"])], name=long_flow)
    diags = StepFunctionsTarget(plan.settings).check(plan)
    assert any(d.code == codes.NAME_TOO_LONG and d.is_error for d in diags)

    plan = _plan([_step("start", "start", ["s" * 79]), _step("s" * 79, "linear", ["end"], ["start"]),
                  _step("end", "end", [], ["s" * 79])])
    diags = StepFunctionsTarget(plan.settings).check(plan)
    assert any(d.code == codes.NAME_TOO_LONG and "s" * 79 in d.message for d in diags)

    big = {f"V{i}": "x" * 200 for i in range(60)}
    plan = _plan([_step("start", "start", ["end"], env=big), _step("end", "end", [], ["start"])])
    diags = StepFunctionsTarget(plan.settings).check(plan)
    assert any(d.code == codes.OVERRIDES_TOO_LARGE for d in diags)

    huge = {f"V{i}": "x" * 4000 for i in range(2)}
    steps = [_step("start", "start", ["s0"])]
    for i in range(300):
        steps.append(_step(f"s{i}", "linear", [f"s{i + 1}" if i < 299 else "end"], env=huge))
    steps.append(_step("end", "end", [], ["s299"]))
    diags = StepFunctionsTarget(steps and _plan(steps).settings).check(_plan(steps))
    assert any(d.code == codes.DEFINITION_TOO_LARGE for d in diags)


def test_datastore_must_be_s3():
    plan = _foreach_plan()
    diags = StepFunctionsTarget(h.make_settings(datastore="file:///tmp/x")).check(plan)
    assert [d.code for d in diags if d.is_error] == [codes.NO_DATASTORE]


def test_codes_registered_and_documented():
    from compiler.diagnostics import codes as registry

    for code in ("FC401", "FC402", "FC403", "FC404", "FC405"):
        assert registry.get(code) is not None and registry.get(code).fix


def test_retry_timeout_and_resources_reach_the_task():
    path = os.path.join(h.SHARED_VALID, "static_config.py")
    files, _ = h.emit(path)
    states = json.loads(files[0].content)["States"]
    train = states["train"]
    assert train["Retry"] == [{"ErrorEquals": ["States.TaskFailed", "States.Timeout"], "IntervalSeconds": 120,
                               "MaxAttempts": 3, "BackoffRate": 1.0}]
    assert train["Parameters"]["Timeout"] == {"AttemptDurationSeconds": 7260}
    assert train["TimeoutSeconds"] == 7860
    reqs = {r["Type"]: r["Value"] for r in train["Parameters"]["ContainerOverrides"]["ResourceRequirements"]}
    assert reqs == {"VCPU": "16", "MEMORY": "65536", "GPU": "1"}
    assert "$$.State.RetryCount" in train["Parameters"]["ContainerOverrides"]["Command.$"]
    prepare = states["prepare"]["Parameters"]["ContainerOverrides"]
    assert prepare["Environment"] == [{"Name": "LEVEL", "Value": "debug"}]
    for state in states.values():
        if state.get("Resource") == "arn:aws:states:::batch:submitJob.sync":
            assert state["ResultPath"] is None and "ResultSelector" not in state
    # A step that asks for what the job definition already requests repeats nothing per state.
    assert "ResourceRequirements" not in states["start"]["Parameters"]["ContainerOverrides"]
    jobdef = json.loads(files[1].content)
    assert {r["type"]: r["value"] for r in jobdef["containerProperties"]["resourceRequirements"]} == {
        "VCPU": "1", "MEMORY": "4096"}


def test_parameters_merge_defaults_with_input():
    files, _ = h.emit(os.path.join(h.SHARED_VALID, "parameters.py"))
    states = json.loads(files[0].content)["States"]
    assert states["Init"]["Parameters"]["defaults"] == {
        "alpha": "0.01", "rounds": "3", "verbose": "false", "config": '{"depth": 4, "tags": ["x"]}',
        "label-with-dash": "ok"}
    assert "States.JsonMerge($.defaults, $.input, false)" in states["start"]["Parameters"]["ContainerOverrides"]["Command.$"]


def test_job_definition_shape_for_batch_options():
    compute = Compute(backend="batch", shared_memory=1024, use_tmpfs=True, tmpfs_size=4096, max_swap=2048,
                      swappiness=10, iam_role="arn:aws:iam::123456789012:role/task", image="img:1", privileged=True)
    request = batchmod.job_definition("MyFlow", compute, h.make_settings(s3_endpoint="http://s3.local"),
                                      code_sha256="a" * 64, code_url="s3://b/p/MyFlow/code/" + "a" * 64 + ".zip")
    h.validate_request("batch", "RegisterJobDefinition", request)
    props = request["containerProperties"]
    assert props["image"] == "img:1" and props["jobRoleArn"].endswith("role/task") and props["privileged"]
    assert props["linuxParameters"] == {"sharedMemorySize": 1024, "maxSwap": 2048, "swappiness": 10, "tmpfs": [
        {"containerPath": "/metaflow_temp", "size": 4096, "mountOptions": ["rw", "noexec", "nosuid", "nodev"]}]}
    env = {e["name"]: e["value"] for e in props["environment"]}
    assert env["AWS_ENDPOINT_URL"] == "http://s3.local" and env["FLOWC_CODE_SHA256"] == "a" * 64
    assert env["FLOWC_CODE_URL"].endswith(".zip") and "FLOWC_BOOTSTRAP" in env
    compile(env["FLOWC_BOOTSTRAP"], "bootstrap", "exec")
    assert props["command"] == list(COMMAND_PREFIX)


@pytest.mark.parametrize("cron,expected", [
    ("0 6 * * *", "cron(0 6 * * ? *)"),
    ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
    ("30 2 1 * *", "cron(30 2 1 * ? *)"),
    ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
])
def test_cron(cron, expected):
    assert aws_cron(cron) == expected


def test_ten_thousand_way_foreach_compiles_to_the_same_definition(tmp_path):
    """A real flow file with a 10,000-item foreach and one with 2 items: identical definitions."""
    template = '''from metaflow import FlowSpec, step


class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(%d))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.v = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''
    sizes = {}
    for width in (2, 10_000):
        (tmp_path / str(width)).mkdir()
        path = tmp_path / str(width) / "wide.py"
        path.write_text(template % width)
        files, diags = h.emit(str(path))
        assert files, [(d.code, d.message) for d in diags]
        definition = files[0].content
        (tmp_path / str(width) / "wide.asl.json").write_bytes(definition)
        h.asl_validate([str(tmp_path / str(width) / "wide.asl.json")])
        sizes[width] = len(definition)
    assert sizes[2] == sizes[10_000] < 16_000
