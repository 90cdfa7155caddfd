"""The Argo emitter: every document validates (strict Hera models, strict schema when available,
name rules), output is byte-identical to golden/argo, sizes stay small."""
from __future__ import annotations

import json
import os

import pytest
import yaml

from compiler.targets import serialize
from compiler.targets.argo import ArgoTarget, names
from compiler.targets.base import CodePackageRef
from . import plans
from .helpers import (GOLDEN_DIR, GOLDEN_PACKAGE, documents, golden_text, own_flows, plan_of,
                                settings, shared_flows)
from .validate import strict_models, validate_all, validate_hera, validate_schema

ALL_FLOWS = shared_flows() + own_flows()


def _id(path):
    return os.path.relpath(path, os.path.dirname(os.path.dirname(path)))


@pytest.mark.parametrize("path", ALL_FLOWS, ids=_id)
def test_documents_validate(path):
    from compiler.pipeline import compile_file

    result = compile_file(path, "argo", settings=settings())
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    kinds = []
    for f in result.files:
        doc = yaml.safe_load(f.content)
        validate_all(doc)
        kinds.append(doc["kind"])
        assert f.name.endswith(".yaml")
    assert kinds[:2] == ["ConfigMap", "WorkflowTemplate"]
    assert len({f.name for f in result.files}) == len(result.files)


@pytest.mark.parametrize("make", [plans.recursive_switch, plans.switch_in_foreach])
def test_hand_built_plans_validate(make):
    plan = make(settings())
    assert not [d for d in ArgoTarget().check(plan) if d.is_error]
    for doc in ArgoTarget().documents(plan, GOLDEN_PACKAGE):
        validate_all(doc)


def test_strict_models_refuse_unknown_fields():
    strict_models()
    doc = documents(os.path.join(os.path.dirname(shared_flows()[0]), "hello.py"))[1]
    doc["spec"]["templates"][0]["bogus"] = 1
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="bogus"):
        validate_hera(doc)
    if validate_schema(documents(os.path.join(os.path.dirname(shared_flows()[0]), "hello.py"))[1]):
        with pytest.raises(AssertionError):
            validate_schema(doc)


def _regenerating() -> bool:
    """FLOWC_REGENERATE_GOLDEN=1 rewrites golden/argo on purpose (reviewed as a diff); never in CI."""
    if os.environ.get("FLOWC_REGENERATE_GOLDEN") != "1":
        return False
    assert not os.environ.get("CI"), "never regenerate golden files in CI"
    return True


@pytest.mark.parametrize("path", shared_flows(), ids=_id)
def test_golden(path):
    name = os.path.splitext(os.path.basename(path))[0]
    golden = os.path.join(GOLDEN_DIR, name + ".yaml")
    text = golden_text(path)
    if _regenerating():
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        with open(golden, "w", encoding="utf-8") as f:
            f.write(text)
        # what was written is compared with a second, independent emission (not with itself)
        text = golden_text(path)
    with open(golden, "rb") as f:
        assert f.read() == text.encode("utf-8"), f"{golden} differs: FLOWC_REGENERATE_GOLDEN=1 to accept"


def test_golden_has_no_stale_files():
    """golden/argo holds exactly one file per shared flow: a removed or renamed flow's file goes."""
    expected = sorted(os.path.splitext(os.path.basename(p))[0] + ".yaml" for p in shared_flows())
    if _regenerating():
        for stale in set(os.listdir(GOLDEN_DIR)) - set(expected):
            os.remove(os.path.join(GOLDEN_DIR, stale))
    assert sorted(os.listdir(GOLDEN_DIR)) == expected, \
        "golden/argo is stale: FLOWC_REGENERATE_GOLDEN=1 pytest " + __file__


def test_byte_identical_between_runs():
    from compiler.pipeline import compile_file

    path = os.path.join(os.path.dirname(shared_flows()[0]), "nested_foreach.py")
    a = compile_file(path, "argo", settings=settings())
    b = compile_file(path, "argo", settings=settings())
    assert [(f.name, f.content) for f in a.files] == [(f.name, f.content) for f in b.files]


def _wide(tmp_path, width):
    src = open(os.path.join(os.path.dirname(shared_flows()[0]), "wide_foreach.py")).read()
    import re
    new, n = re.subn(r"(Parameter\(\s*\"width\".*?default\s*=\s*)\d+", r"\g<1>%d" % width, src, flags=re.S)
    assert n == 1
    p = tmp_path / f"wide{width}" / "wide_foreach.py"
    p.parent.mkdir()
    p.write_text(new)
    return golden_text(str(p))


def test_wide_foreach_size_does_not_grow(tmp_path):
    small, large = _wide(tmp_path, 10), _wide(tmp_path, 10000)
    assert large.replace("10000", "10") == small
    assert abs(len(large) - len(small)) <= 3


def test_resources_bytes_per_step():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "resources.py")
    plan = plan_of(path)
    wt = ArgoTarget().documents(plan, GOLDEN_PACKAGE)[1]
    size = len(serialize.to_yaml(wt))
    per_step = size / len(plan.steps)
    print(f"resources.py: {size} bytes of WorkflowTemplate YAML, {len(plan.steps)} steps, {per_step:.0f} bytes/step")
    assert per_step <= 1792   # the @batch bootstrap (in templateDefaults) carries a stdlib SigV4 client: ~4 KB


def test_resources_requests():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "resources.py")
    wt = documents(path)[1]
    t = {x["name"]: x for x in wt["spec"]["templates"]}
    defaults = wt["spec"]["templateDefaults"]["container"]
    assert defaults["resources"]["requests"] == {"cpu": "1", "memory": "4096Mi", "ephemeral-storage": "10240Mi"}
    assert t["small"]["container"]["resources"]["requests"] == {"cpu": "2", "memory": "8000Mi"}
    gpu = t["gpu-train"]
    assert gpu["container"]["resources"] == {"requests": {"cpu": "8", "memory": "32000Mi", "ephemeral-storage": "20480Mi"},
                                             "limits": {"nvidia.com/gpu": "1"}}
    assert gpu["container"]["image"] == "python:3.11-slim"
    assert gpu["nodeSelector"] == {"pool": "gpu"}
    assert gpu["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert gpu["container"]["env"] == [{"name": "MODE", "value": "train"}, {"name": "THREADS", "value": "8"}]
    batch = t["on-batch"]["container"]["args"]
    assert batch[0] == "batch-submit" and batch[batch.index("--queue") + 1] == "gpu-queue"
    resources = json.loads(batch[batch.index("--resources") + 1])
    assert {"type": "GPU", "value": "2"} in resources and {"type": "MEMORY", "value": "16000"} in resources


def test_cloud_options():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "cloud_options.py")
    t = {x["name"]: x for x in documents(path)[1]["spec"]["templates"]}
    k8s = t["on-k8s"]
    assert k8s["serviceAccountName"] == "trainer"
    assert k8s["container"]["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert k8s["metadata"] == {"labels": {"team": "forecast"}, "annotations": {"owner": "ml"}}
    assert k8s["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2048Mi"}}]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in k8s["container"]["volumeMounts"]
    args = t["on-batch"]["container"]["args"]
    definition = json.loads(args[args.index("--job-definition") + 1])
    assert definition["containerProperties"]["jobRoleArn"] == "arn:aws:iam::123456789012:role/flow-task"


def test_parameters():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "parameters.py")
    wt = documents(path)[1]
    params = {p["name"]: p for p in wt["spec"]["arguments"]["parameters"]}
    assert "value" not in params["who"]                       # required: no default
    assert params["alpha"]["value"] == "0.01" and params["rounds"]["value"] == "3"
    assert params["verbose"]["value"] == "false"
    assert params["label-with-dash"]["value"] == "ok"
    assert "null" not in yaml.safe_dump(wt)
    start = next(t for t in wt["spec"]["templates"] if t["name"] == "start")
    args = start["container"]["args"]
    # each value base64-encoded by an expression Argo evaluates in its first substitution pass
    assert "label-with-dash={{=sprig.b64enc(workflow.parameters['label-with-dash'])}}" in args
    assert args[args.index("--run-id") + 1] == "{{workflow.name}}-{{workflow.uid}}"
    assert not any("{{workflow.parameters.who" in a for a in args)
    assert "sh" not in start["container"].get("command", [])


def test_switch_when_and_depends():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "switch.py")
    main = documents(path)[1]["spec"]["templates"][0]
    tasks = {t["name"]: t for t in main["dag"]["tasks"]}
    assert tasks["large"]["when"] == "'{{tasks.start.outputs.parameters.branch}}' == 'large'"
    assert tasks["end"]["depends"] in ("large.Succeeded || small.Succeeded", "small.Succeeded || large.Succeeded")


def test_scheduled_cron_and_project():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "scheduled.py")
    docs = documents(path, settings(concurrency_policy="Forbid"))
    cron = docs[2]
    assert cron["kind"] == "CronWorkflow"
    assert cron["spec"]["schedules"] == ["0 6 * * *"] and cron["spec"]["timezone"] == "Europe/Paris"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert docs[1]["metadata"]["name"] == "forecasting.test.golden.dailyforecastflow"
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == docs[1]["metadata"]["name"]
    assert len(cron["metadata"]["name"]) <= 52


@pytest.mark.parametrize("version,key", [("3.5", "schedule"), ("3.6", "schedules"), ("4.1", "schedules"),
                                         (None, "schedules")])
def test_argo_version_selects_schedule_or_schedules(version, key):
    """CronWorkflowSpec.schedules exists from v3.6; v3.5 has only `schedule` (a string)."""
    path = os.path.join(os.path.dirname(shared_flows()[0]), "scheduled.py")
    cron = documents(path, settings(**({"argo_version": version} if version else {})))[2]
    assert key in cron["spec"] and {"schedule", "schedules"} - {key} - set(cron["spec"]) == {"schedule", "schedules"} - {key}
    assert cron["spec"][key] == ("0 6 * * *" if key == "schedule" else ["0 6 * * *"])
    validate_all(cron) if key == "schedules" else None


def test_step_named_join_and_names():
    path = os.path.join(os.path.dirname(shared_flows()[0]), "hybrid_cloud.py")
    wt = documents(path)[1]
    assert "join" in [t["name"] for t in wt["spec"]["templates"]]
    assert names.k8s_name("prepare_data") == "prepare-data"
    long = "a" * 80
    assert len(names.k8s_name(long)) <= 63 and names.k8s_name(long) != names.k8s_name(long + "b")
    ns = names.Namespace()
    assert ns.add("Foo") != ns.add("foo")
    assert names.k8s_name("_private").startswith("private-")
    assert len(names.k8s_name("x" * 70, names.CRON_NAME_LIMIT, dots=True, fold_case=True)) <= 52


def test_check_reports_bad_label_and_large_package(tmp_path):
    from dataclasses import replace

    from compiler.targets.argo import codes

    path = os.path.join(os.path.dirname(shared_flows()[0]), "cloud_options.py")
    plan = plan_of(path)
    step = plan.steps["on_k8s"]
    step.compute = replace(step.compute, labels=(("team", "data science"),))
    found = {d.code for d in ArgoTarget().check(plan)}
    assert codes.BAD_LABEL in found
    big = tmp_path / "big"
    big.mkdir()
    (big / "flow.py").write_text(open(os.path.join(os.path.dirname(shared_flows()[0]), "hello.py")).read())
    (big / "blob.bin").write_bytes(os.urandom(1200 * 1024))
    plan = plan_of(str(big / "flow.py"), settings(package_include=["*.bin"]))
    from compiler.pipeline import build_code_package

    diags = ArgoTarget().check(plan, build_code_package(plan, plan.settings))
    assert any(d.code == codes.PACKAGE_TOO_LARGE and "flowc deploy" in d.message for d in diags)


def test_batch_without_queue_is_refused():
    from compiler import settings as S
    from compiler.targets.argo import codes

    path = os.path.join(os.path.dirname(shared_flows()[0]), "big_sum_batch.py")
    plan = plan_of(path, S.resolve({"datastore": "s3://b/p"}, flow_dir="/", environ={}))
    assert codes.BATCH_NO_QUEUE in {d.code for d in ArgoTarget().check(plan)}


def test_batch_steps_are_submitters_never_pods_with_step_resources():
    from compiler.targets.argo.resources import BATCH_POD_RESOURCES

    path = os.path.join(os.path.dirname(shared_flows()[0]), "hybrid_cloud.py")
    t = {x["name"]: x for x in documents(path)[1]["spec"]["templates"]}
    for name, queue in (("train", "gpu-queue"), ("join", "cpu-queue")):
        c = t[name]["container"]
        assert c["args"][0] == "batch-submit" and c["args"][c["args"].index("--queue") + 1] == queue
        assert c["resources"] == BATCH_POD_RESOURCES
        assert c["args"][c["args"].index("--") + 1] == "task"
    assert t["prepare-data"]["container"]["args"][0] == "task"


def test_cli_compile_stdout_and_out_dir(tmp_path):
    import subprocess
    import sys

    path = os.path.join(os.path.dirname(shared_flows()[0]), "scheduled.py")
    env = dict(os.environ, FLOWC_DATASTORE="s3://b/p", FLOWC_BRANCH="cli")
    cmd = [sys.executable, "-m", "compiler.cli", "compile", path, "--target", "argo"]
    a = subprocess.run(cmd, env=env, capture_output=True, check=True).stdout
    b = subprocess.run(cmd, env=env, capture_output=True, check=True).stdout
    assert a == b
    docs = list(yaml.safe_load_all(a))
    assert [d["kind"] for d in docs] == ["ConfigMap", "WorkflowTemplate", "CronWorkflow"]
    subprocess.run(cmd + ["-o", str(tmp_path)], env=env, capture_output=True, check=True)
    # -o with an s3:// datastore: the package is a file to upload (see the manifest), not a ConfigMap
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "DailyForecastFlow.code.zip", "DailyForecastFlow.manifest.json",
        "forecasting.test.cli.dailyforecastflow-cron.yaml", "forecasting.test.cli.dailyforecastflow.yaml"]


TRIGGER_FLOW = '''
from metaflow import FlowSpec, kubernetes, step, trigger


@trigger(event="data_ready")
class TriggeredFlow(FlowSpec):
    """Runs when data is ready."""

    @kubernetes(use_tmpfs=True, tmpfs_size=2048)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_trigger_compiles_and_k8s_tmpfs(tmp_path):
    from compiler.targets.argo import codes

    path = tmp_path / "triggered.py"
    path.write_text(TRIGGER_FLOW)
    plan = plan_of(str(path))
    assert codes.TRIGGER_IGNORED not in {d.code for d in ArgoTarget().check(plan)}   # retired: a Sensor
    docs = ArgoTarget().documents(plan, GOLDEN_PACKAGE)
    assert [d["kind"] for d in docs] == ["ConfigMap", "WorkflowTemplate", "Sensor"]
    wt = docs[1]
    validate_all(wt)
    assert wt["metadata"]["annotations"]["workflows.argoproj.io/description"] == "Runs when data is ready."
    start = next(t for t in wt["spec"]["templates"] if t["name"] == "start")
    assert {"name": "tmpfs", "emptyDir": {"medium": "Memory", "sizeLimit": "2048Mi"}} in start["volumes"]


def test_batch_needs_s3_datastore():
    from compiler.targets.argo import codes

    path = os.path.join(os.path.dirname(shared_flows()[0]), "hybrid_cloud.py")
    plan = plan_of(path, settings(datastore="file:///tmp/x"))
    assert codes.BATCH_NEEDS_S3 in {d.code for d in ArgoTarget().check(plan)}
