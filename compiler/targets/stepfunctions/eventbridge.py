"""@trigger / @trigger_on_finish -> Amazon EventBridge rules whose target is the state machine.

NAME.events.json holds one entry per event: the PutRule request and the PutTargets request of its
rule (rule names: `<state machine>-<hash of the event name>`, so `flowc deploy` finds and removes
the ones a flow no longer declares by prefix).

- @trigger(event=NAME): the rule matches events on `eventbridge_bus` with `source` =
  `eventbridge_source` and `detail-type` = NAME; `detail` is the payload. Each mapped field must be
  present (`"exists": true`), and the target's InputTransformer maps `$.detail.<field>` to the
  parameter: the template inserts the variable unquoted, which EventBridge documents as inserting
  the JSON value (a string with its quotes), so no payload text is spliced into JSON.
- @trigger_on_finish(flow=F): the rule matches the `aws.states` event "Step Functions Execution
  Status Change" with `status: SUCCEEDED` and the upstream state machine's ARN (the name F has
  under this flow's project and branch); the state machine starts with no input (its defaults).
- Forms a rule cannot express (FC409): several events that must all arrive (an AND): one rule
  matches one event and keeps no state.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from compiler.ir import FlowPlan
from compiler.triggers import EventDependency, Triggers

TARGET_ID = "flowc-start"
STATUS_CHANGE = "Step Functions Execution Status Change"
MAX_RULE_NAME = 64


def rule_prefix(state_machine: str) -> str:
    """Every rule of a state machine starts with this (64 characters at most for a rule name)."""
    return state_machine[: MAX_RULE_NAME - 12] + "-"


def rule_name(state_machine: str, event: str) -> str:
    return rule_prefix(state_machine) + hashlib.sha256(event.encode()).hexdigest()[:10]


def upstream_state_machine(dep: EventDependency) -> str:
    """The upstream's state machine name (common.state_machine_name's rule for its parts)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", ".".join(dep.upstream_parts))


def arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def _pattern(dep: EventDependency, settings: Any, region: str, account: str) -> dict[str, Any]:
    if dep.kind == "run":
        return {"source": ["aws.states"], "detail-type": [STATUS_CHANGE],
                "detail": {"status": ["SUCCEEDED"],
                           "stateMachineArn": [arn(region, account, upstream_state_machine(dep))]}}
    pattern: dict[str, Any] = {"source": [str(getattr(settings, "eventbridge_source", None) or "flowc")],
                               "detail-type": [dep.name]}
    if dep.parameters:
        pattern["detail"] = {f: [{"exists": True}] for _, f in dep.parameters}
    return pattern


def _transformer(dep: EventDependency) -> dict[str, Any]:
    paths = {"p%d" % i: "$.detail." + f for i, (_, f) in enumerate(dep.parameters)}
    # json.dumps of each parameter name; <pN> unquoted: EventBridge inserts the field's JSON value
    body = ", ".join("%s: <p%d>" % (json.dumps(p), i) for i, (p, _) in enumerate(dep.parameters))
    return {"InputPathsMap": paths, "InputTemplate": "{" + body + "}"}


def rules(plan: FlowPlan, triggers: Triggers, settings: Any, name: str, region: str, account: str,
          role_arn: str) -> list[dict[str, Any]]:
    """[{"rule": PutRule request, "targets": PutTargets request}] for each event."""
    bus = str(getattr(settings, "eventbridge_bus", None) or "default")
    out = []
    for dep in triggers.dependencies:
        rule = rule_name(name, dep.name)
        what = f"the end of {'.'.join(dep.upstream_parts)}" if dep.kind == "run" else f"event {dep.name}"
        target: dict[str, Any] = {"Id": TARGET_ID, "Arn": arn(region, account, name), "RoleArn": role_arn}
        if dep.parameters:
            target["InputTransformer"] = _transformer(dep)
        else:
            target["Input"] = "{}"
        out.append({
            "rule": {"Name": rule, "EventBusName": bus, "State": "ENABLED",
                     "Description": f"flowc: start {name} on {what}"[:512],
                     "EventPattern": json.dumps(_pattern(dep, settings, region, account), sort_keys=True)},
            "targets": {"Rule": rule, "EventBusName": bus, "Targets": [target]},
        })
    return out


def policy_statement(region: str, account: str, name: str) -> dict[str, Any]:
    """What the rules' role (eventbridge_role_arn, else sfn_role_arn) needs; it must also trust
    events.amazonaws.com (sts:AssumeRole)."""
    return {"Sid": "EventBridgeStartsExecution", "Effect": "Allow", "Action": ["states:StartExecution"],
            "Resource": arn(region, account, name)}


def trust_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}
