"""The smallest honest stand-in for what moto 5.2 lacks between EventBridge and Step Functions.

moto's EventBridge matches events against rules with its own pattern engine (Rule.send_to_targets
calls EventPattern.matches_event first), but it raises NotImplementedError for a Step Functions
target, and moto's Step Functions publishes no "Step Functions Execution Status Change" events.
This module adds exactly those two things, in the test process where the moto server runs:

- `install()` wraps Rule.send_to_targets: after moto's own pattern match, a target whose ARN is a
  state machine gets StartExecution (through the real API on the moto server, as EventBridge calls
  it with the target's role) with the input EventBridge documents
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html and
  the API's Target.Input / InputTransformer): `Input` verbatim; an InputTransformer's variables
  are JSONPaths into the event, and a `<var>` placed outside a JSON string in the template becomes
  the JSON value (a string keeps its quotes); with neither, the whole event. Other targets go to
  moto as before. Delivery is asynchronous, as in EventBridge.
- `StatusChanges` polls the state machines' executions and, when one ends, puts the event AWS
  emits (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html:
  source aws.states, detail-type "Step Functions Execution Status Change", detail with
  executionArn, stateMachineArn, name, status, startDate, stopDate, input, output) into moto's
  EventBridge, whose rules then match it like any other event.
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

from tests.stepfunctions.moto_sfn import ACCOUNT, REGION

STATUS_CHANGE = "Step Functions Execution Status Change"


def _jsonpath(event: dict, path: str) -> Any:
    assert path.startswith("$."), path
    node: Any = event
    for key in path[2:].split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(f"{path} is not in the event")
        node = node[key]
    return node


def transformed_input(target: dict, event: dict) -> str:
    if "Input" in target:
        return target["Input"]
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(event)
    template = transformer["InputTemplate"]
    values = {name: _jsonpath(event, path) for name, path in transformer.get("InputPathsMap", {}).items()}

    def fill(match: re.Match) -> str:
        before = template[: match.start()]
        assert (before.count('"') - before.count('\\"')) % 2 == 0, "placeholders inside strings are not used"
        return json.dumps(values[match.group(1)])
    return re.sub(r"<([A-Za-z0-9_.-]+)>", fill, template)


class Relay:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.deliveries: list[dict] = []     # {"rule", "state_machine", "input", "role", "execution" | "error"}
        self._threads: list[threading.Thread] = []

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def install(self):
        from moto.events import models

        original = models.Rule.send_to_targets
        relay = self

        def send_to_targets(rule, original_event, transform_input: bool = True) -> None:
            if not rule.event_pattern.matches_event(original_event):
                return
            states = [t for t in rule.targets if t["Arn"].split(":")[2] == "states"]
            for target in states:
                relay._deliver(rule.name, target, original_event)
            others = [t for t in rule.targets if t not in states]
            if others:
                saved, rule.targets = rule.targets, others
                try:
                    original(rule, original_event, transform_input)
                finally:
                    rule.targets = saved

        models.Rule.send_to_targets = send_to_targets
        return original

    @staticmethod
    def uninstall(original) -> None:
        from moto.events import models

        models.Rule.send_to_targets = original

    def _deliver(self, rule: str, target: dict, event: dict) -> None:
        record: dict[str, Any] = {"rule": rule, "state_machine": target["Arn"], "role": target.get("RoleArn")}
        try:
            record["input"] = transformed_input(target, event)
        except (KeyError, AssertionError) as error:
            record["error"] = str(error)
            self.deliveries.append(record)
            return
        self.deliveries.append(record)

        def start():
            try:
                record["execution"] = self.client("stepfunctions").start_execution(
                    stateMachineArn=target["Arn"], name="ev-" + uuid.uuid4().hex[:12],
                    input=record["input"])["executionArn"]
            except Exception as error:  # noqa: BLE001 - recorded for the test to show
                record["error"] = repr(error)
        thread = threading.Thread(target=start, daemon=True)
        thread.start()
        self._threads.append(thread)

    def wait(self, count: int, timeout: float = 60) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            done = [d for d in self.deliveries if "execution" in d or "error" in d]
            if len(done) >= count:
                return done
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.deliveries)} deliveries, wanted {count}: {self.deliveries}")


class StatusChanges:
    """Polls executions; puts a status change event into moto's EventBridge when one ends."""

    def __init__(self, relay: Relay, interval: float = 0.2):
        self.relay = relay
        self.interval = interval
        self.seen: set[str] = set()
        self.emitted: list[dict] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "StatusChanges":
        sfn = self.relay.client("stepfunctions")   # executions that ended before now are not news
        for machine in sfn.list_state_machines()["stateMachines"]:
            for ex in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                if ex["status"] != "RUNNING":
                    self.seen.add(ex["executionArn"])
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        from moto.events.models import events_backends

        sfn = self.relay.client("stepfunctions")
        while not self._stop.is_set():
            for machine in sfn.list_state_machines()["stateMachines"]:
                for ex in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                    if ex["status"] == "RUNNING" or ex["executionArn"] in self.seen:
                        continue
                    self.seen.add(ex["executionArn"])
                    desc = sfn.describe_execution(executionArn=ex["executionArn"])
                    detail = {"executionArn": desc["executionArn"], "stateMachineArn": desc["stateMachineArn"],
                              "name": desc["name"], "status": desc["status"],
                              "startDate": int(desc["startDate"].timestamp() * 1000),
                              "stopDate": int(desc["stopDate"].timestamp() * 1000) if desc.get("stopDate") else None,
                              "input": desc.get("input"), "output": desc.get("output")}
                    self.emitted.append(detail)
                    events_backends[ACCOUNT][REGION].put_events([{
                        "Source": "aws.states", "DetailType": STATUS_CHANGE, "Detail": json.dumps(detail),
                        "Resources": [desc["executionArn"]], "EventBusName": "default"}])
            self._stop.wait(self.interval)
