"""Kill tests for survivors of the mutation sample's extension (tests/README.md, "Mutation score").

Each test was run against its mutant with `python -m tests.mutation_sample check` (fails there,
passes on the code)."""
from __future__ import annotations

import os
import zipfile

import pytest


class _FakeS3:
    """Just what S3Storage's boto3 path calls: head_object and a list_objects_v2 paginator."""

    def __init__(self, keys):
        self.keys = keys

    def head_object(self, Bucket, Key):
        from botocore.exceptions import ClientError

        if Key not in self.keys:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {}

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        keys = self.keys

        class Paginator:
            def paginate(self, Bucket, Prefix, Delimiter):
                rest = [k[len(Prefix):] for k in sorted(keys) if k.startswith(Prefix)]
                yield {"CommonPrefixes": [{"Prefix": Prefix + r.split("/")[0] + "/"} for r in rest if "/" in r],
                       "Contents": [{"Key": Prefix + r} for r in rest if "/" not in r]}

        return Paginator()


def _boto3_storage(keys):
    from runtime_shim.datastore import S3Storage

    storage = S3Storage("bucket", "pre")
    storage._lite = None        # no stdlib client here: the boto3 path
    storage._client = _FakeS3(keys)
    return storage


def test_the_boto3_path_reads_a_404_as_missing_and_lists_keys_and_prefixes():
    """datastore.S3Storage._missing (the error's Code) and list (Contents' Key) on the boto3 path."""
    storage = _boto3_storage({"pre/F/1/_meta", "pre/F/1/start/a", "pre/F/2/x"})
    assert storage.exists("F/1/_meta") is True
    assert storage.exists("F/1/nothing") is False
    assert storage.list("F/1") == ["_meta", "start"]
    assert storage.list("F") == ["1", "2"]


def _package(tmp_path):
    path = tmp_path / "pkg.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("flow/", "")
        z.writestr("flow/flow.py", "print('flow')\n")
        z.writestr("flow/data/", "")
        z.writestr("flow/data/table.csv", "a,b\n")
        z.writestr("runtime_shim/__init__.py", "")
    return str(path)


def test_the_flow_folder_is_extracted_from_a_package_zipimport_has_not_read(tmp_path, monkeypatch):
    """task.prepare_flow_dir's zipfile fallback (no zipimport directory cache): the files under
    flow/ are extracted, the directory entries are not written as files, nothing else comes out."""
    from runtime_shim import task

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(task, "_package_root", lambda: (_package(tmp_path), None))
    monkeypatch.setattr(task, "_zip_names", lambda zpath: None)
    work = task.prepare_flow_dir()
    found = sorted(os.path.relpath(os.path.join(d, f), work) for d, _, fs in os.walk(work) for f in fs)
    assert found == ["data/table.csv", "flow.py"]
    with open(os.path.join(work, "data", "table.csv")) as handle:
        assert handle.read() == "a,b\n"


def test_the_flow_folder_is_copied_from_a_package_directory(tmp_path, monkeypatch):
    """task.prepare_flow_dir when runtime_shim runs from a directory, not a zip: root/flow is copied."""
    from runtime_shim import task

    root = tmp_path / "root"
    (root / "flow" / "data").mkdir(parents=True)
    (root / "flow" / "flow.py").write_text("print('flow')\n")
    (root / "flow" / "data" / "table.csv").write_text("a,b\n")
    (root / "other.txt").write_text("not the flow\n")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(task, "_package_root", lambda: (None, str(root)))
    work = task.prepare_flow_dir()
    assert sorted(os.listdir(work)) == ["data", "flow.py"]
    assert (tmp_path / "tmp" / os.path.basename(work) / "data" / "table.csv").read_text() == "a,b\n"


def test_a_job_condition_that_is_not_true_is_skipped_not_the_end_of_the_list():
    """backends/kubernetes._finished: a False condition before the True one is passed over."""
    from compiler.runner.backends.kubernetes import _finished

    job = {"status": {"conditions": [{"type": "Suspended", "status": "False"},
                                     {"type": "Complete", "status": "True"}]}}
    assert _finished(job) == "Succeeded"
    failed = {"status": {"conditions": [{"type": "Complete", "status": "False"},
                                        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                         "message": "Job has reached the specified backoff limit"}]}}
    assert _finished(failed) == "Failed (BackoffLimitExceeded: Job has reached the specified backoff limit)"
    assert _finished({"status": {"conditions": [{"type": "Complete", "status": "False"}]}}) is None


def test_a_foreach_body_task_whose_split_is_missing_names_the_split_task():
    """task.Resolver.inputs_for: the split task named is the one at the parent index path
    (t-2 for body task t-2-5), not the body's own path."""
    from runtime_shim import task

    class Datastore:
        def read_manifest(self, run_id, step, task_id):
            return None

    spec = {"steps": {"outer": {"kind": "foreach", "depth": 1, "in": []},
                      "split": {"kind": "foreach", "depth": 1, "in": ["outer"]},
                      "body": {"kind": "linear", "depth": 2, "in": ["split"]}}}
    resolver = task.Resolver(spec, Datastore(), "r1")
    with pytest.raises(task.UsageError, match=r"^split task split/t-2 is not complete$"):
        resolver.inputs_for("body", [2, 5], 0)
    with pytest.raises(task.UsageError, match=r"^split task split/t is not complete$"):
        resolver.inputs_for("body", [5], 0)


# --- targets -------------------------------------------------------------------------------------

_FLOWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows")


def test_argo_exit_hook_templates_run_hook_with_the_event_and_its_functions():
    """argo/templates.hook_args and exit_hook_templates: one named container template per event."""
    from tests.argo import helpers as argo_h

    [spec] = [d["spec"] for d in argo_h.documents(os.path.join(_FLOWS, "deco", "exit_hook_flow.py"),
                                                 argo_h.settings()) if d["kind"] == "WorkflowTemplate"]
    templates = {t["name"]: t for t in spec["templates"]}
    assert spec["onExit"] == "flowc-exit-hooks"
    run = ["--datastore", "{{workflow.parameters.flowc-datastore}}", "--run-id", "{{workflow.name}}-{{workflow.uid}}"]
    assert templates["flowc-exit-hooks-success"]["container"]["args"] == [
        "hook", *run, "--event", "success", "--function", "celebrate"]
    assert templates["flowc-exit-hooks-error"]["container"]["args"] == [
        "hook", *run, "--event", "error", "--function", "notify"]


def test_step_functions_exit_hook_jobs_are_named_after_the_end_step():
    """stepfunctions/asl.with_exit_hooks: the hook job's Batch JobName is the end step's + -hook."""
    import json

    from tests.stepfunctions import helpers as h

    files, _ = h.emit(os.path.join(_FLOWS, "deco", "exit_hook_flow.py"))
    states = json.loads(files[0].content)["States"]
    for hook in ("ExitHookError", "ExitHookSuccess"):
        name = states[hook]["Parameters"]["JobName"]
        assert isinstance(name, str) and name.endswith("-end-hook") and len(name) <= 128, name


def test_a_refused_decorator_on_step_functions_is_named_with_the_step_and_why():
    """stepfunctions/check.fate_problems: FC413 for @parallel, naming the decorator and the step."""
    from compiler.targets.stepfunctions.check import fate_problems
    from tests.argo.helpers import plan_of
    from tests.stepfunctions import helpers as h

    [diag] = fate_problems(plan_of(os.path.join(_FLOWS, "valid_own", "parallel_flow.py"), h.make_settings()))
    assert diag.code == "FC413" and diag.message.startswith("step 'train': @parallel: no gang scheduling")


def test_an_exit_hook_on_a_kubernetes_end_step_is_refused_on_step_functions():
    """stepfunctions/check.fate_problems: FC EXIT_HOOK_ON_EKS names the end step."""
    import dataclasses

    from compiler.ir import Compute
    from compiler.targets.stepfunctions import codes as sfn_codes
    from compiler.targets.stepfunctions.check import fate_problems
    from tests.test_mutation_kills_targets import _two_step_plan

    plan = _two_step_plan()
    end = dataclasses.replace(plan.steps["end"], compute=Compute(backend="kubernetes"))
    plan = dataclasses.replace(plan, steps={**plan.steps, "end": end}, exit_hooks=(("error", "notify"),))
    [diag] = fate_problems(plan)
    assert diag.code == sfn_codes.EXIT_HOOK_ON_EKS
    assert diag.message.endswith("with the end step's Batch job definition, and `end` is @kubernetes")


def test_a_recursive_switch_in_a_foreach_starts_its_counter_at_zero_per_item():
    """stepfunctions/asl.map_state: each item's selector starts the body's recursive step at n=0."""
    import json

    from tests.stepfunctions import helpers as h

    files, _ = h.emit(os.path.join(_FLOWS, "valid_own", "recursive_switch_foreach.py"))
    selector = json.loads(files[0].content)["States"]["start.foreach"]["ItemSelector"]
    assert selector["it_loop"] == {"n": 0, "tid.$": "States.Format('{}-{}', $.tid, $$.Map.Item.Value)"}


def test_argo_recursive_switch_passes_each_wait_for_the_one_before():
    """argo/dag: pass j depends on pass j-1 and runs when it chose the step again."""
    from tests.argo import helpers as argo_h

    [spec] = [d["spec"] for d in argo_h.documents(os.path.join(_FLOWS, "valid_own", "recursive_switch.py"),
                                                 argo_h.settings()) if d["kind"] == "WorkflowTemplate"]
    [dag] = [t["dag"]["tasks"] for t in spec["templates"] if "dag" in t and any(x["name"] == "pass1" for x in t["dag"]["tasks"])]
    tasks = {t["name"]: t for t in dag}
    assert "depends" not in tasks["pass0"]
    for j in range(1, len([n for n in tasks if n.startswith("pass")])):
        assert tasks["pass%d" % j]["depends"] == "pass%d.Succeeded" % (j - 1)


def test_argo_warns_about_a_step_namespace_only_when_it_differs_from_the_workflows():
    """argo/check.backend_problems: FC NAMESPACE_IGNORED for another namespace, none for the same."""
    from types import SimpleNamespace

    from compiler.ir import Compute
    from compiler.targets.argo import codes as argo_codes
    from compiler.targets.argo.check import backend_problems
    from tests.test_mutation_kills_targets import _two_step_plan

    def ignored(step_namespace):
        step = _two_step_plan(compute=Compute(backend="kubernetes", namespace=step_namespace)).steps["start"]
        return [d.message for d in backend_problems(step, SimpleNamespace(k8s_namespace="flows"))
                if d.code == argo_codes.NAMESPACE_IGNORED]

    assert ignored("flows") == []
    assert ignored("other") == ["step start: namespace 'other' is ignored; every pod runs in the workflow's "
                                "namespace (flows)"]


def test_argo_without_a_datastore_warns_and_a_schedule_makes_it_an_error_at_the_cron():
    """argo/check.package_problems: no datastore is a warning; with @schedule an error pointing at
    cron=... (a CronWorkflow's runs get no datastore argument); a datastore silences both."""
    from compiler.diagnostics import ERROR, WARNING
    from compiler.targets.argo.check import package_problems
    from tests.argo import helpers as argo_h

    def problems(flow, **flags):
        plan = argo_h.plan_of(os.path.join(_FLOWS, "shared", "valid", flow), argo_h.settings(**flags))
        return list(package_problems(plan, None, False))

    [warning] = problems("hello.py", datastore=None)
    assert warning.severity == WARNING and warning.span is None
    assert warning.message.startswith("no datastore setting")
    [error] = problems("scheduled.py", datastore=None)
    assert error.severity == ERROR and error.message.startswith("@schedule needs a datastore setting")
    assert (error.span.line, error.span.col) == (6, 16)      # the "0 6 * * *" of cron=
    assert problems("scheduled.py", datastore="s3://bucket/prefix") == []
    assert problems("hello.py", datastore="s3://bucket/prefix") == []


def test_step_functions_side_files_are_not_the_stdout_document():
    """stepfunctions emit: only the state machine goes to stdout; job definitions, events and the
    policy are files. The rules' role may start executions of this state machine only, in the
    account of the role (any account when no role is set)."""
    import json

    from tests.stepfunctions import helpers as h

    path = os.path.join(_FLOWS, "triggers", "train_flow.py")
    files, _ = h.emit(path)
    assert [(f.name, f.stdout) for f in files] == [
        ("TrainFlow.asl.json", True), ("TrainFlow.jobdef.json", False), ("TrainFlow.events.json", False),
        ("TrainFlow.policy.json", False)]

    def starts(settings):
        files, _ = h.emit(path, settings)
        [policy] = [json.loads(f.content) for f in files if f.name.endswith(".policy.json")]
        return [s["Resource"] for s in policy["Statement"] if s.get("Sid") == "EventBridgeStartsExecution"]

    assert starts(h.make_settings(sfn_role_arn="arn:aws:iam::123456789012:role/r")) == [
        "arn:aws:states:us-east-1:123456789012:stateMachine:TrainFlow"]
    assert starts(h.make_settings(sfn_role_arn=None)) == ["arn:aws:states:us-east-1:*:stateMachine:TrainFlow"]


def test_a_json_parameter_default_is_compact_sorted_json_so_the_output_is_deterministic():
    """argo/arguments.parameter_value: a dict or list default is JSON with sorted keys."""
    from types import SimpleNamespace

    from compiler.targets.argo.arguments import parameter_value

    param = SimpleNamespace(kind="json", has_default=True, required=False, default={"b": 1, "a": [2, {"d": 3, "c": 4}]})
    assert parameter_value(param) == '{"a": [2, {"c": 4, "d": 3}], "b": 1}'


def test_argo_with_the_package_in_the_datastore_gives_pods_its_url_and_sha256():
    """argo/__init__._spec: no ConfigMap; the pods' env names the package URL and its sha256 (what
    the bootstrap checks the fetched zip against)."""
    import yaml

    from compiler.targets.argo import ArgoTarget
    from compiler.targets.base import CodePackageRef
    from tests.argo import helpers as argo_h

    plan = argo_h.plan_of(os.path.join(_FLOWS, "shared", "valid", "hello.py"), argo_h.settings())
    sha = "ab" * 32
    docs = [yaml.safe_load(f.content) for f in ArgoTarget(package_in_datastore=True).emit(
        plan, CodePackageRef(b"zip", sha, "s3://bucket/code.zip"))]
    assert [d["kind"] for d in docs] == ["WorkflowTemplate"]
    env = docs[0]["spec"]["templateDefaults"]["container"]["env"]
    assert {"name": "FLOWC_CODE_SHA256", "value": sha} in env
    assert all(set(e) <= {"name", "value", "valueFrom"} and "name" in e for e in env), env


def test_the_argument_size_estimate_is_the_exact_base64_length():
    """argo/check._b64_len: the size a default takes once base64-encoded (what is compared with
    MAX_ARG_STRLEN) is exactly base64's length, padding included."""
    import base64

    from compiler.targets.argo.check import _b64_len

    for n in (0, 1, 2, 3, 4, 5, 6, 7, 100, 131071, 131072):
        assert _b64_len(n) == len(base64.b64encode(b"x" * n)), n
