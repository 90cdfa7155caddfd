"""`flowc deploy --target argo` of @trigger flows against the Kubernetes API stand-in
(tests/k8s_double.py): the Sensor after the WorkflowTemplate, idempotent, removed when the flow no
longer declares a trigger; `flowc trigger --event` posts the event body to the webhook."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.argo_executor.sensor import SensorEvaluator
from tests.k8s_double import KubeDouble, node
from tests.triggers.webhook import Webhook

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "tests" / "flows" / "triggers"


@pytest.fixture
def kube(tmp_path):
    double = KubeDouble().start()
    double.nodes = [node("worker-1", cpu="16", memory="64Gi")]
    config = double.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="ml")
    yield double, config
    double.stop()


def flowc(args, kubeconfig, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env.update(KUBECONFIG=kubeconfig, FLOWC_DATASTORE="file:///tmp/flowc-deploy-test",
               FLOWC_ARGO_EVENTS_SERVICE_ACCOUNT="events-sa")
    env.pop("AWS_ENDPOINT_URL", None)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def _writes(double):
    return [(m, p.split("/")[-2] if m in ("PUT", "DELETE") else p.split("/")[-1])
            for m, p, _ in double.requests if m in ("POST", "PUT", "DELETE")]


def test_sensor_after_template_idempotent_and_removed(kube, tmp_path):
    double, config = kube
    flow = tmp_path / "event_flow.py"
    flow.write_text((FLOWS / "event_flow.py").read_text())
    first = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert first.returncode == 0, first.stderr
    assert _writes(double) == [("POST", "configmaps"), ("POST", "workflowtemplates"), ("POST", "sensors")]
    [sensor] = double.of_kind("sensors")
    assert sensor["metadata"]["namespace"] == "ml" and sensor["spec"]["template"]["serviceAccountName"] == "events-sa"
    assert sensor["spec"]["triggers"][0]["template"]["k8s"]["source"]["resource"]["spec"]["workflowTemplateRef"] \
        == {"name": double.of_kind("workflowtemplates")[0]["metadata"]["name"]}

    double.requests.clear()
    second = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert second.returncode == 0 and _writes(double) == [], second.stderr

    flow.write_text(flow.read_text().replace('"data.ready"', '"data.landed"'))
    double.requests.clear()
    third = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert third.returncode == 0, third.stderr
    assert ("PUT", "sensors") in _writes(double)
    [sensor] = double.of_kind("sensors")
    assert SensorEvaluator(sensor).receive("flowc-events", "flowc", {"name": "data.landed", "payload": {}})

    text = flow.read_text()
    flow.write_text("from metaflow import FlowSpec, Parameter, step\n\n\n" + text[text.index("class "):])
    double.requests.clear()
    fourth = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert fourth.returncode == 0, fourth.stderr
    assert _writes(double)[-1] == ("DELETE", "sensors") and double.of_kind("sensors") == []


def test_a_sensor_flowc_did_not_make_is_kept(kube, tmp_path):
    double, config = kube
    flow = tmp_path / "hello_flow.py"
    flow.write_text((FLOWS / "data_flow.py").read_text())
    double._put("argoproj.io/v1alpha1", "sensors", "ml", {"apiVersion": "argoproj.io/v1alpha1", "kind": "Sensor",
                                                           "metadata": {"name": "dataflow"}, "spec": {}})
    done = flowc(["deploy", str(flow), "--target", "argo"], config)
    assert done.returncode == 0, done.stderr
    assert "kept (not flowc's sensor for this flow)" in done.stderr
    assert len(double.of_kind("sensors")) == 1


def test_trigger_event_posts_the_body_the_sensor_filters(kube):
    _, config = kube
    hook = Webhook()
    try:
        sent = flowc(["trigger", str(FLOWS / "event_flow.py"), "--target", "argo", "--event", "data.ready",
                      "--payload", json.dumps({"table_name": "sales"})], config,
                     {"FLOWC_ARGO_EVENTS_WEBHOOK_URL": hook.url})
        assert sent.returncode == 0, sent.stderr
        [body] = hook.bodies
        assert body["name"] == "data.ready" and body["payload"]["table_name"] == "sales"
        assert sent.stdout.strip() == body["payload"]["id"]
        missing = flowc(["trigger", str(FLOWS / "event_flow.py"), "--target", "argo", "--event", "data.ready"], config)
        assert missing.returncode == 1 and "argo_events_webhook_url" in missing.stderr
        bad = flowc(["trigger", str(FLOWS / "event_flow.py"), "--target", "argo", "--event", "data ready"], config,
                    {"FLOWC_ARGO_EVENTS_WEBHOOK_URL": hook.url})
        assert bad.returncode == 1 and "only letters" in bad.stderr and len(hook.bodies) == 1
    finally:
        hook.stop()
