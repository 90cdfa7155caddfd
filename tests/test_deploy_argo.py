"""`flowc deploy/trigger/status --target argo` with the real kubernetes client against a local
stand-in of the API server (tests/k8s_double.py): what was sent, what exists afterwards."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.k8s_double import KubeDouble, node

ROOT = Path(__file__).resolve().parents[1]
FLOWS = ROOT / "tests" / "flows" / "shared" / "valid"


@pytest.fixture
def kube(tmp_path):
    double = KubeDouble().start()
    double.nodes = [node("worker-1", cpu="16", memory="64Gi")]
    config = double.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="ml")
    yield double, config
    double.stop()


def flowc(args, kubeconfig, extra_env=None):
    env = dict(os.environ, KUBECONFIG=kubeconfig, FLOWC_DATASTORE="file:///tmp/flowc-deploy-test")
    env.pop("AWS_ENDPOINT_URL", None)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_deploy_creates_template_then_second_deploy_changes_nothing(kube):
    double, config = kube
    first = flowc(["deploy", str(FLOWS / "scheduled.py"), "--target", "argo"], config)
    assert first.returncode == 0, first.stderr
    templates = double.of_kind("workflowtemplates")
    crons = double.of_kind("cronworkflows")
    maps = double.of_kind("configmaps")
    assert len(templates) == 1 and len(crons) == 1 and len(maps) == 1
    assert templates[0]["metadata"]["namespace"] == "ml"
    writes = [(m, p) for m, p, _ in double.requests if m in ("POST", "PUT", "DELETE")]
    # the code first, the template before the cron workflow that starts it
    kinds = [p.split("/")[-1] for _, p in writes]
    assert kinds == ["configmaps", "workflowtemplates", "cronworkflows"], writes

    double.requests.clear()
    second = flowc(["deploy", str(FLOWS / "scheduled.py"), "--target", "argo"], config)
    assert second.returncode == 0, second.stderr
    assert [r for r in double.requests if r[0] in ("POST", "PUT", "DELETE")] == []
    assert "unchanged" in second.stderr


def test_redeploy_of_a_changed_flow_replaces_the_template(kube, tmp_path):
    double, config = kube
    flow = tmp_path / "hello.py"
    flow.write_text((FLOWS / "hello.py").read_text())
    assert flowc(["deploy", str(flow), "--target", "argo"], config).returncode == 0
    version = double.of_kind("workflowtemplates")[0]["metadata"]["resourceVersion"]
    flow.write_text(flow.read_text().replace('"hello"', '"hi"'))
    again = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert again.returncode == 0, again.stderr
    templates = double.of_kind("workflowtemplates")
    assert len(templates) == 1 and templates[0]["metadata"]["resourceVersion"] != version
    assert len(double.of_kind("configmaps")) == 2   # the new package beside the old one


def test_dry_run_sends_nothing_that_writes(kube):
    double, config = kube
    result = flowc(["deploy", str(FLOWS / "hello.py"), "--target", "argo", "--dry-run"], config)
    assert result.returncode == 0, result.stderr
    assert "workflowtemplate" in result.stdout
    assert [r for r in double.requests if r[0] != "GET"] == []


def test_failed_template_update_leaves_previous_deployment(kube, tmp_path):
    double, config = kube
    flow = tmp_path / "hello.py"
    flow.write_text((FLOWS / "hello.py").read_text())
    assert flowc(["deploy", str(flow), "--target", "argo"], config).returncode == 0
    before = json.dumps(double.of_kind("workflowtemplates"), sort_keys=True)
    double.refuse = lambda method, path: 500 if method == "PUT" and "workflowtemplates" in path else None
    flow.write_text(flow.read_text().replace('"hello"', '"changed"'))
    failed = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert failed.returncode == 1
    assert "workflowtemplate" in failed.stderr and "failed" in failed.stderr
    assert json.dumps(double.of_kind("workflowtemplates"), sort_keys=True) == before


def test_trigger_checks_parameters_then_creates_a_workflow_and_status_reads_it(kube):
    double, config = kube
    flow = str(FLOWS / "parameters.py")
    assert flowc(["deploy", flow, "--target", "argo"], config).returncode == 0
    double.requests.clear()
    bad = flowc(["trigger", flow, "--target", "argo", "--param", "rounds=many"], config)
    assert bad.returncode == 2 and "rounds" in bad.stderr and "who" in bad.stderr
    assert double.requests == []                        # nothing sent for a bad parameter
    good = flowc(["trigger", flow, "--target", "argo", "--param", "who=flowc", "--param", "rounds=4"], config)
    assert good.returncode == 0, good.stderr
    workflows = double.of_kind("workflows")
    assert len(workflows) == 1
    spec = workflows[0]["spec"]
    assert spec["workflowTemplateRef"]["name"] == double.of_kind("workflowtemplates")[0]["metadata"]["name"]
    assert {"name": "who", "value": "flowc"} in spec["arguments"]["parameters"]
    run = good.stdout.strip()      # the run id: the workflow's name and uid (what its tasks use)
    assert run == "%s-%s" % (workflows[0]["metadata"]["name"], workflows[0]["metadata"]["uid"])
    # the controller would fill status; play its part and read it back
    workflows[0]["status"] = {"phase": "Running", "nodes": {
        "a": {"type": "Pod", "templateName": "start", "phase": "Succeeded"},
        "b": {"type": "Pod", "templateName": "end", "phase": "Running"}}}
    shown = flowc(["status", flow, run, "--target", "argo", "--json"], config)
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["status"] == "Running" and state["run_id"] == run
    assert state["steps"] == {"start": {"Succeeded": 1}, "end": {"Running": 1}}


def test_preflight_refuses_a_step_no_node_can_hold_before_anything_is_sent(kube):
    double, config = kube
    double.nodes = [node("small", cpu="4", memory="16Gi")]
    result = flowc(["deploy", str(FLOWS / "heavy_imports.py"), "--target", "argo"], config)
    assert result.returncode == 1
    assert "step train" in result.stderr and "nothing was changed" in result.stderr
    assert [r for r in double.requests if r[0] != "GET"] == []


def test_missing_kubeconfig_is_a_clear_error(tmp_path):
    result = flowc(["deploy", str(FLOWS / "hello.py"), "--target", "argo"], str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "Kubernetes configuration" in result.stderr and "Traceback" not in result.stderr


def test_deploy_with_s3_datastore_uploads_the_package_and_ships_no_config_map(kube, s3_root, moto_server):
    import boto3

    double, config = kube
    result = flowc(["deploy", str(FLOWS / "hello.py"), "--target", "argo"], config,
                   {"FLOWC_DATASTORE": s3_root, "AWS_ENDPOINT_URL": moto_server})
    assert result.returncode == 0, result.stderr
    assert double.of_kind("configmaps") == []
    template = double.of_kind("workflowtemplates")[0]
    sha = template["metadata"]["annotations"]["flowc.dev/code-sha256"]
    bucket, _, prefix = s3_root[5:].partition("/")
    key = f"{prefix}/HelloFlow/code/{sha}.zip"
    body = boto3.client("s3", endpoint_url=moto_server).get_object(Bucket=bucket, Key=key)["Body"].read()
    import hashlib

    assert hashlib.sha256(body).hexdigest() == sha
    assert f"s3://{bucket}/{key}" in json.dumps(template)
