"""Compile-time checks of @trigger / @trigger_on_finish, and the documents both targets emit for
them, validated against Argo Events' schema / strict models and botocore's request models."""
from __future__ import annotations

import copy
import json
import os

import pytest

from compiler import settings as S
from compiler.pipeline import compile_file
from tests.stepfunctions.helpers import validate_request
from tests.triggers.validate_sensor import validate_models, validate_schema, validate_sensor

FLOWS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flows", "triggers")
ROLE = "arn:aws:iam::123456789012:role/sfn"


def _compile(path, target, **flags):
    st = S.resolve({"datastore": "s3://bucket/root", "batch_queue": "q", "sfn_role_arn": ROLE, **flags},
                   flow_dir="/", environ={})
    return compile_file(path, target, settings=st)


def _flow(tmp_path, decorator, params="    alpha = Parameter('alpha', default=1)\n", name="TFlow"):
    path = tmp_path / "t_flow.py"
    path.write_text("from metaflow import FlowSpec, Parameter, step, trigger, trigger_on_finish, project\n\n\n"
                    f"{decorator}\nclass {name}(FlowSpec):\n{params}\n"
                    "    @step\n    def start(self):\n        self.next(self.end)\n\n"
                    "    @step\n    def end(self):\n        pass\n")
    return str(path)


def _codes(result):
    return [(d.code, d.span.line if d.span else None, d.span.col if d.span else None) for d in result.diagnostics
            if d.code.startswith(("FC24", "FC33", "FC311", "FC409"))]


@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
def test_mapping_to_an_undeclared_parameter_is_an_error_at_the_key(tmp_path, target):
    path = _flow(tmp_path, "@trigger(event={'name': 'go', 'parameters': {'alhpa': 'a'}})")
    result = _compile(path, target)
    assert not result.ok
    # line 4, the column of the string 'alhpa' inside the decorator
    assert ("FC241", 4, 46) in _codes(result)
    message = next(d.message for d in result.diagnostics if d.code == "FC241")
    assert "'alhpa'" in message and "alpha" in message


@pytest.mark.parametrize("decorator, code", [
    ("@trigger(event='data ready')", "FC242"),
    ("@trigger(event={'name': 'go', 'parameters': {'alpha': 'a.b'}})", "FC243"),
    ("@trigger(events=['a', 'a'])", "FC244"),
    ("@trigger(event={'parameters': {'alpha': 'a'}})", "FC240"),
    ("@trigger(event='a', events=['b'])", "FC240"),
    ("@trigger(event={'name': 'go', 'parameters': [('alpha', 'a', 'b')]})", "FC240"),
    ("@trigger_on_finish(flow='proj.Flow')", "FC245"),
    ("@trigger_on_finish(flow={'name': 'Up', 'project': 'p'})", "FC245"),
    ("@trigger_on_finish(flow='Up-stream')", "FC245"),
])
def test_bad_forms_are_diagnostics_not_tracebacks(tmp_path, decorator, code):
    result = _compile(_flow(tmp_path, decorator), "argo")
    assert not result.ok
    found = [c for c in _codes(result) if c[0] == code]
    assert found and found[0][1] == 4, _codes(result)


def test_unknown_option_is_a_warning(tmp_path):
    result = _compile(_flow(tmp_path, "@trigger(event='go', options={'reset_every': 1})"), "argo")
    assert result.ok and [c[0] for c in _codes(result)] == ["FC246"]


def test_no_trigger_warning_codes_remain(tmp_path):
    for name in ("event_flow.py", "train_flow.py"):
        for target in ("argo", "stepfunctions"):
            result = _compile(os.path.join(FLOWS, name), target)
            assert result.ok and _codes(result) == [], (name, target, _codes(result))


def test_argo_needs_a_datastore_for_a_trigger(tmp_path):
    st = S.resolve({}, flow_dir="/", environ={})
    result = compile_file(os.path.join(FLOWS, "event_flow.py"), "argo", settings=st)
    assert [d.code for d in result.diagnostics if d.is_error] == ["FC330"]


def test_and_over_several_events_is_refused_on_step_functions_only():
    path = os.path.join(FLOWS, "both_events_flow.py")
    sfn = _compile(path, "stepfunctions")
    assert not sfn.ok and [c[:2] for c in _codes(sfn)] == [("FC409", 5)]
    assert _compile(path, "argo").ok


def _sensor(path, **flags):
    result = _compile(path, "argo", **flags)
    assert result.ok, result.diagnostics
    docs = [d for f in result.files for d in f.documents]
    return next(d for d in docs if d["kind"] == "Sensor"), result


@pytest.mark.parametrize("name", ["event_flow.py", "train_flow.py", "both_events_flow.py"])
def test_sensors_validate(name):
    sensor, _ = _sensor(os.path.join(FLOWS, name), argo_events_service_account="events-sa",
                        argo_events_bus="jetstream", k8s_namespace="flows")
    validate_sensor(sensor)
    assert sensor["spec"]["eventBusName"] == "jetstream"
    assert sensor["spec"]["template"] == {"serviceAccountName": "events-sa"}
    assert sensor["metadata"]["namespace"] == "flows"


def test_validators_refuse_an_unknown_field():
    sensor, _ = _sensor(os.path.join(FLOWS, "event_flow.py"))
    bad = copy.deepcopy(sensor)
    bad["spec"]["dependencies"][0]["eventSrc"] = "x"
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="eventSrc"):
        validate_models(bad)
    if validate_schema(sensor):   # ../shared is here
        with pytest.raises(AssertionError, match="eventSrc"):
            validate_schema(bad)


def test_reset_at_becomes_conditions_reset(tmp_path):
    path = _flow(tmp_path, "@trigger(event='go', options={'reset_at': {'cron': '0 0 * * *', 'timezone': 'UTC'}})")
    sensor, _ = _sensor(path)
    validate_sensor(sensor)
    assert sensor["spec"]["triggers"][0]["template"]["conditionsReset"] == [
        {"byTime": {"cron": "0 0 * * *", "timezone": "UTC"}}]


def test_single_event_without_mapping_maps_every_parameter(tmp_path):
    sensor, _ = _sensor(_flow(tmp_path, "@trigger(event='go')"))
    params = sensor["spec"]["triggers"][0]["template"]["k8s"]["parameters"]
    assert [(p["src"]["dataKey"], p["dest"]) for p in params] == [("body.payload.alpha",
                                                                   "spec.arguments.parameters.0.value")]


def test_on_finish_follows_the_project_and_branch(tmp_path):
    path = _flow(tmp_path, "@project(name='proj')\n@trigger_on_finish(flows=['Up', 'other.prod.Side'])")
    sensor, _ = _sensor(path, branch="prod")
    filters = [d["filters"]["data"][0]["value"] for d in sensor["spec"]["dependencies"]]
    # --branch prod is the branch test.prod (Metaflow's naming); 'other.prod.Side' names its own
    assert filters == [[r"^metaflow\.proj\.test\.prod\.Up\.end$"], [r"^metaflow\.other\.prod\.Side\.end$"]]


def test_webhook_setting_tells_the_runtime_where_to_publish():
    _, result = _sensor(os.path.join(FLOWS, "event_flow.py"), argo_events_webhook_url="http://events:12000/flowc")
    template = next(d for f in result.files for d in f.documents if d["kind"] == "WorkflowTemplate")
    env = {e["name"]: e["value"] for e in template["spec"]["templateDefaults"]["container"]["env"]}
    assert env["FLOWC_EVENTS_WEBHOOK"] == "http://events:12000/flowc"
    assert env["FLOWC_FINISH_EVENT"] == "metaflow.EventFlow.end"


def _events_doc(result):
    return next(d for f in result.files if f.name.endswith(".events.json") for d in f.documents)


@pytest.mark.parametrize("name", ["event_flow.py", "train_flow.py"])
def test_eventbridge_requests_validate_with_botocore(name):
    result = _compile(os.path.join(FLOWS, name), "stepfunctions", eventbridge_role_arn=ROLE)
    assert result.ok
    doc = _events_doc(result)
    assert doc["rules"]
    for entry in doc["rules"]:
        validate_request("events", "PutRule", entry["rule"])
        validate_request("events", "PutTargets", entry["targets"])
        assert entry["targets"]["Targets"][0]["RoleArn"] == ROLE
    policy = next(d for f in result.files if f.name.endswith(".policy.json") for d in f.documents)
    statement = next(s for s in policy["Statement"] if s["Sid"] == "EventBridgeStartsExecution")
    assert statement["Action"] == ["states:StartExecution"]
    assert statement["Resource"].endswith(":stateMachine:" + name.replace("_flow.py", "").title() + "Flow")


def test_botocore_refuses_a_broken_rule():
    from botocore.exceptions import ParamValidationError

    doc = _events_doc(_compile(os.path.join(FLOWS, "event_flow.py"), "stepfunctions"))
    bad = dict(doc["rules"][0]["rule"], Name="x" * 65, Pattern="{}")
    with pytest.raises(ParamValidationError):
        validate_request("events", "PutRule", bad)


def test_on_finish_rule_pattern():
    doc = _events_doc(_compile(os.path.join(FLOWS, "train_flow.py"), "stepfunctions"))
    pattern = json.loads(doc["rules"][0]["rule"]["EventPattern"])
    assert pattern == {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                       "detail": {"status": ["SUCCEEDED"],
                                  "stateMachineArn": ["arn:aws:states:us-east-1:123456789012:stateMachine:DataFlow"]}}
    assert doc["rules"][0]["targets"]["Targets"][0]["Input"] == "{}"


@pytest.mark.parametrize("target, kind", [("argo", "sensor"), ("stepfunctions", "event-rules")])
def test_bundle_manifest_names_the_trigger_documents(tmp_path, target, kind):
    from compiler.pipeline import bundle_files

    result = _compile(os.path.join(FLOWS, "event_flow.py"), target)
    manifest = next(f for f in bundle_files(result, target) if f.name.endswith(".manifest.json"))
    kinds = [entry["kind"] for entry in json.loads(manifest.content)["files"]]
    assert kind in kinds and "document" not in kinds
