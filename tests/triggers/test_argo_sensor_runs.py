"""@trigger / @trigger_on_finish on Argo, proven by firing events: the compiled Sensor goes through
the Sensor evaluator (tests/argo_executor/sensor.py), and the Workflow it creates runs through the
Argo executor."""
from __future__ import annotations

import os

import pytest

from runtime_shim.client import Run
from tests.argo_executor.executor import SUCCEEDED, Executor
from tests.argo_executor.harness import compile_docs
from tests.argo_executor.sensor import SensorEvaluator, TriggerFailed, workflow_arguments
from tests.triggers.webhook import Webhook

FLOWS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flows", "triggers")
SOURCE, EVENT = "flowc-events", "flowc"


def _docs(name, tmp_path, **flags):
    datastore = "file://%s/datastore" % tmp_path
    os.makedirs(tmp_path / "datastore", exist_ok=True)
    return compile_docs(os.path.join(FLOWS, name), datastore, **flags)


def _sensor(docs):
    return SensorEvaluator(next(d for d in docs if d["kind"] == "Sensor"))


def _run(docs, workflow, tmp_path, extra_env=None):
    """Run the Workflow the Sensor created: its template reference and its arguments."""
    template = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    assert workflow["spec"]["workflowTemplateRef"]["name"] == template["metadata"]["name"]
    ex = Executor(docs, workflow_arguments(workflow), workdir=str(tmp_path / ("exec-" + template["metadata"]["name"])),
                  extra_env=extra_env)
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message
    return Run("%s/%s" % (template["metadata"]["annotations"]["flowc.dev/flow-name"], ex.run_id),
               datastore="file://%s/datastore" % tmp_path)


def test_event_with_mapping_starts_the_flow_with_the_payload(tmp_path):
    docs = _docs("event_flow.py", tmp_path)
    sensor = _sensor(docs)
    assert sensor.receive(SOURCE, EVENT, {"name": "other.event", "payload": {"table_name": "x"}}) == []
    # the filter is a regexp: an unescaped dot would let this one through
    assert sensor.receive(SOURCE, EVENT, {"name": "dataXready", "payload": {"table_name": "x"}}) == []
    created = sensor.receive(SOURCE, EVENT, {"name": "data.ready", "payload": {"table_name": "sales", "row_limit": 5}})
    assert len(created) == 1
    run = _run(docs, created[0], tmp_path)
    assert run["end"].task.data.seen == {"table": "sales", "limit": 5, "note": "untouched"}


def test_absent_payload_field_leaves_the_default(tmp_path):
    docs = _docs("event_flow.py", tmp_path)
    created = _sensor(docs).receive(SOURCE, EVENT, {"name": "data.ready", "payload": {"table_name": "t2"}})
    run = _run(docs, created[0], tmp_path)
    assert run["end"].task.data.seen == {"table": "t2", "limit": 10, "note": "untouched"}


def test_and_over_two_events(tmp_path):
    docs = _docs("both_events_flow.py", tmp_path)
    sensor = _sensor(docs)
    assert sensor.receive(SOURCE, EVENT, {"name": "features.ready", "payload": {"path": "s3://f"}}) == []
    created = sensor.receive(SOURCE, EVENT, {"name": "labels.ready", "payload": {"path_labels": "s3://l"}})
    assert len(created) == 1
    run = _run(docs, created[0], tmp_path)
    assert run["end"].task.data.pair == ("s3://f", "s3://l")
    # consumed: one more event of one kind starts nothing
    assert sensor.receive(SOURCE, EVENT, {"name": "labels.ready", "payload": {"path_labels": "x"}}) == []


def test_required_parameter_without_its_field_creates_nothing(tmp_path):
    flow = tmp_path / "required_flow.py"
    flow.write_text(
        "from metaflow import FlowSpec, Parameter, step, trigger\n\n\n"
        "@trigger(event={'name': 'go', 'parameters': {'size': 'size'}})\n"
        "class RequiredFlow(FlowSpec):\n"
        "    size = Parameter('size', required=True, type=int)\n\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")
    docs = compile_docs(str(flow), "file://%s/datastore" % tmp_path)
    with pytest.raises(TriggerFailed, match="size does not exist"):
        _sensor(docs).receive(SOURCE, EVENT, {"name": "go", "payload": {}})


def test_chain_data_then_train_on_finish(tmp_path):
    """DataFlow's end step publishes metaflow.DataFlow.end to the webhook; TrainFlow's Sensor
    takes it and creates TrainFlow's Workflow."""
    hook = Webhook()
    try:
        data_docs = _docs("data_flow.py", tmp_path, argo_events_webhook_url=hook.url)
        template = next(d for d in data_docs if d["kind"] == "WorkflowTemplate")
        ex = Executor(data_docs, {}, workdir=str(tmp_path / "exec-data"))
        assert ex.run().phase == SUCCEEDED
        assert [b["name"] for b in hook.bodies] == ["metaflow.DataFlow.end"]
        payload = hook.bodies[0]["payload"]
        assert payload["flow_name"] == "DataFlow" and payload["run_id"] == ex.run_id
        assert payload["step_name"] == "end" and payload["auto-generated-by-metaflow"] is True
        assert "flowc.dev/flow-name" in template["metadata"]["annotations"]
    finally:
        hook.stop()
    train_docs = _docs("train_flow.py", tmp_path)
    sensor = _sensor(train_docs)
    created = sensor.receive(SOURCE, EVENT, hook.bodies[0])
    assert len(created) == 1
    run = _run(train_docs, created[0], tmp_path)
    assert run["end"].task.data.model == "trained for 2 epochs"


def test_failed_upstream_publishes_nothing(tmp_path):
    flow = tmp_path / "failing_flow.py"
    flow.write_text(
        "from metaflow import FlowSpec, step\n\n\n"
        "class FailingFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        raise RuntimeError('no')\n")
    hook = Webhook()
    try:
        docs = compile_docs(str(flow), "file://%s/datastore" % tmp_path, argo_events_webhook_url=hook.url)
        ex = Executor(docs, {}, workdir=str(tmp_path / "exec"))
        assert ex.run().phase != SUCCEEDED
        assert hook.bodies == []
    finally:
        hook.stop()
