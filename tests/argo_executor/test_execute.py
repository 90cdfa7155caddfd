"""Flows compiled for Argo run through the executor (every runnable flow runs in tests/parity)."""
from __future__ import annotations

import os
import sys

import pytest

from .executor import SUCCEEDED, evaluate_depends, merge_template_defaults, Node
from .harness import run_flow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "tests", "flows", "shared", "valid")
OWN = os.path.join(ROOT, "tests", "flows", "valid_own")


def _run(path, tmp_path, args=None, **kw):
    ex, root, lines = run_flow(path, tmp_path, args, **kw)
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-40:])
    return ex, root


# Every runnable flow (shared and valid_own) runs through the executor in tests/parity, which also
# compares every task's artifacts with `flowc run` and Step Functions.


def test_flow_needing_numpy_fails_on_the_default_image(tmp_path):
    """big_sum imports numpy (and wants 60 GB): on the default stdlib-only image its step fails
    as on a cluster, where the flow needs an image with numpy."""
    ex, root, lines = run_flow(os.path.join(SHARED, "big_sum.py"), tmp_path)
    assert root.phase != SUCCEEDED
    assert any("No module named 'numpy'" in p.get("log", "") for p in ex.pods)


def test_declared_image_maps_to_its_interpreter(tmp_path):
    ex, _ = _run(os.path.join(SHARED, "hello.py"), tmp_path, image="example.com/python-numpy:1",
                 images={"example.com/python-numpy:1": sys.executable})
    assert {p["argv"][0] for p in ex.pods} == {sys.executable}


def test_recursive_switch_iterations(tmp_path):
    ex, _ = _run(os.path.join(OWN, "recursive_switch.py"), tmp_path)
    loops = [p["argv"] for p in ex.pods if p["argv"][p["argv"].index("--step") + 1] == "loop"]
    assert sorted(a[a.index("--iteration") + 1] for a in loops) == ["0", "1", "2"]


def test_retry_attempts_use_retries_variable(tmp_path):
    ex, _ = _run(os.path.join(SHARED, "retry_catch_timeout.py"), tmp_path)
    attempts = [p["argv"][p["argv"].index("--attempt") + 1] for p in ex.pods if "--attempt" in p["argv"]]
    assert "1" in attempts                            # a step failed once and was retried


def test_foreach_index_paths(tmp_path):
    ex, _ = _run(os.path.join(SHARED, "nested_foreach.py"), tmp_path)
    paths = {p["argv"][p["argv"].index("--index-path") + 1] for p in ex.pods if "--index-path" in p["argv"]}
    assert any("," in x for x in paths)


def test_depends_logic():
    nodes = {"a": Node("a", "Succeeded"), "b": Node("b", "Skipped"), "c": Node("c", "Omitted")}
    assert evaluate_depends("a.Succeeded || b.Succeeded", nodes)
    assert not evaluate_depends("b.Succeeded || c.Succeeded", nodes)
    assert evaluate_depends("b", nodes)                # unspecified: Succeeded || Skipped || Daemoned
    assert not evaluate_depends("a && !b.Skipped", nodes)


def test_template_defaults_merge_by_type():
    defaults = {"container": {"image": "x", "env": [{"name": "A", "value": "1"}]}, "retryStrategy": {"limit": "1"}}
    merged = merge_template_defaults(defaults, {"name": "d", "dag": {"tasks": []}})
    assert "container" not in merged and merged["retryStrategy"] == {"limit": "1"}
    merged = merge_template_defaults(defaults, {"name": "c", "container": {"image": "y", "env": [{"name": "B", "value": "2"}]}})
    assert merged["container"]["image"] == "y" and [e["name"] for e in merged["container"]["env"]] == ["A", "B"]


def test_failing_required_parameter(tmp_path):
    from .executor import WorkflowError

    with pytest.raises(WorkflowError):
        run_flow(os.path.join(SHARED, "parameters.py"), tmp_path, {})


@pytest.fixture
def moto_batch():
    from .moto_batch import RAN, MotoBatch

    RAN.clear()
    mb = MotoBatch()
    try:
        yield mb
    finally:
        mb.stop()


def test_hybrid_cloud_batch_steps_run_on_batch(tmp_path, moto_batch):
    """@batch steps go through `runtime_shim batch-submit` against moto; @kubernetes steps are pods."""
    from .moto_batch import RAN

    moto_batch.create_queues("gpu-queue", "cpu-queue")
    s3 = moto_batch.client("s3")
    bucket = "flowc-hybrid-" + os.urandom(4).hex()
    s3.create_bucket(Bucket=bucket)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_SESSION_TOKEN": "testing", "FLOWC_BATCH_POLL_SECONDS": "0.2"}
    path = os.path.join(SHARED, "hybrid_cloud.py")
    from .harness import compile_docs
    from .executor import Executor

    docs = compile_docs(path, f"s3://{bucket}/root", s3_endpoint=moto_batch.endpoint, aws_region="us-east-1", package_include=["*.data"])
    lines = []
    # every pod, the ones that run `batch-submit` included, runs the stdlib-only interpreter
    ex = Executor(docs, {}, workdir=str(tmp_path / "exec"), extra_env=env, log=lines.append)
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-60:]) + repr(RAN)[-3000:]
    jobs = [j for j in RAN if "error" not in j]
    assert len([j for j in jobs if j["queue"] == "gpu-queue"]) == 3      # train, once per country
    assert len([j for j in jobs if j["queue"] == "cpu-queue"]) == 1      # the step named `join`
    assert all(j["exit"] == 0 for j in jobs)
    train = next(j for j in jobs if j["queue"] == "gpu-queue")
    assert {"type": "GPU", "value": "2"} in train["resources"]
    join = next(j for j in jobs if j["queue"] == "cpu-queue")
    assert {"type": "MEMORY", "value": "16000"} in join["resources"]
    # one job definition (identical ones are reused), the code package uploaded once
    assert len({j["definition"] for j in jobs}) == 1
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="root/HybridCloudFlow/code/").get("Contents", [])]
    assert len(keys) == 1
    submitters = [p for p in ex.pods if "batch-submit" in p["argv"]]
    assert len(submitters) == 4 and all("task" in p["argv"] for p in submitters)
    assert any("[batch-submit] job" in line and "SUCCEEDED" in line for line in lines)


def test_package_in_datastore_mode_runs_with_bootstrap(tmp_path, moto_batch):
    """`flowc deploy` mode: no ConfigMap; each pod fetches the package from S3 with the bootstrap."""
    import yaml

    from compiler import settings as S
    from compiler.pipeline import build_code_package
    from compiler.runtime_spec import plan_for_file
    from compiler.targets import serialize
    from compiler.targets.argo import ArgoTarget

    from ..argo.validate import validate_all
    from .executor import Executor

    s3 = moto_batch.client("s3")
    bucket = "flowc-deployed-" + os.urandom(4).hex()
    s3.create_bucket(Bucket=bucket)
    st = S.resolve({"datastore": f"s3://{bucket}/root", "s3_endpoint": moto_batch.endpoint,
                    "aws_region": "us-east-1"}, flow_dir="/", environ={})
    plan, _ = plan_for_file(os.path.join(SHARED, "foreach.py"), None, st)
    target = ArgoTarget(package_in_datastore=True)
    assert not [d for d in target.check(plan) if d.is_error]
    package = build_code_package(plan, st)
    bucket, _, key = package.url[len("s3://"):].partition("/")
    s3.put_object(Bucket=bucket, Key=key, Body=package.data)           # what `flowc deploy` does
    docs = [yaml.safe_load(f.content) for f in target.emit(plan, package)]
    assert [d["kind"] for d in docs] == ["WorkflowTemplate"]
    for d in docs:
        validate_all(d)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
    # the bootstrap fetches the package with the standard library: stdlib-only pods, no mapping
    ex = Executor(docs, {}, workdir=str(tmp_path / "exec"), extra_env=env)
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message
    assert all(p["argv"][1] == "-c" for p in ex.pods)


def test_parameter_values_are_data(tmp_path):
    """A user value with quotes, tags and shell syntax reaches the runtime unchanged, in one argv
    entry: base64, made by an expression tag Argo evaluates in its first pass, so the second pass
    and the pod pass see no `{{`."""
    import base64

    from runtime_shim.client import Run

    value = "{{=sprig.env('HOME')}} {{workflow.name}} {{=1+1}} '\"; rm -rf / $(id)\n\u00e9"
    ex, _ = _run(os.path.join(SHARED, "parameters.py"), tmp_path, {"who": value})
    start = next(p for p in ex.pods if "--param-b64" in p["argv"])
    entry = next(a for a in start["argv"] if a.startswith("who="))
    assert base64.b64decode(entry[len("who="):]).decode() == value
    assert "{{" not in " ".join(start["argv"])
    run = Run("ParameterFlow/" + ex.run_id, datastore="file://%s/datastore" % tmp_path)
    assert run["start"].task.data.who == value
