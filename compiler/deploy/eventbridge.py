"""Deploy an @trigger flow's EventBridge rules after its state machine, and remove the rules the
flow no longer declares (every rule of a state machine has its name as prefix)."""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from compiler.deploy import Action

TARGET_ID = "flowc-start"


def _with_account(request: dict[str, Any], own_arn: str) -> dict[str, Any]:
    """The compiled requests name the account as configured (or a placeholder); the deployed
    state machine's ARN says which account and region the rules really run in."""
    parts = own_arn.split(":")
    region, account = parts[3], parts[4]
    text = json.dumps(request)
    text = text.replace("${AWS::AccountId}", account)
    out = json.loads(text)
    for target in out.get("targets", {}).get("Targets", []):
        target["Arn"] = own_arn
    rule = out["rule"]
    pattern = json.loads(rule["EventPattern"])
    arns = pattern.get("detail", {}).get("stateMachineArn")
    if arns:
        pattern["detail"]["stateMachineArn"] = [":".join(a.split(":")[:3] + [region, account] + a.split(":")[5:])
                                                for a in arns]
        rule["EventPattern"] = json.dumps(pattern, sort_keys=True)
    return out


def put_rule(events, request: dict[str, Any], own_arn: str) -> str:
    request = _with_account(request, own_arn)
    rule, targets = request["rule"], request["targets"]
    try:
        current = events.describe_rule(Name=rule["Name"], EventBusName=rule["EventBusName"])
        listed = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=rule["EventBusName"])["Targets"]
    except events.exceptions.ResourceNotFoundException:
        current, listed = None, []
    same_rule = current is not None and all(
        (json.loads(current.get(k) or "null") == json.loads(v)) if k == "EventPattern" else current.get(k) == v
        for k, v in rule.items() if k != "EventBusName")
    if same_rule and listed == targets["Targets"]:
        return "unchanged"
    events.put_rule(**rule)
    events.put_targets(**targets)
    return "created" if current is None else "updated"


def remove_rule(events, name: str, bus: str) -> str:
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]]
    if ids:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
    events.delete_rule(Name=name, EventBusName=bus)
    return "deleted"


def actions(events, document: dict[str, Any] | None, prefix: str, buses: list[str],
            own_arn: Callable[[], str]) -> list[Action]:
    """Put each declared rule, then delete this state machine's rules no longer declared."""
    declared = document["rules"] if document else []
    def put(request: dict[str, Any]) -> Callable[[], str]:
        return lambda: put_rule(events, request, own_arn())
    out = [Action("event-rule", r["rule"]["Name"], put(r), switches=True) for r in declared]
    keep = {r["rule"]["Name"] for r in declared}

    def prune() -> str:
        removed = []
        for bus in sorted(set(buses) | {r["rule"]["EventBusName"] for r in declared}):
            for page in events.get_paginator("list_rules").paginate(NamePrefix=prefix, EventBusName=bus):
                for rule in page["Rules"]:
                    if rule["Name"] not in keep and re.fullmatch(re.escape(prefix) + "[0-9a-f]{10}", rule["Name"]):
                        remove_rule(events, rule["Name"], bus)
                        removed.append(rule["Name"])
        return "deleted " + ", ".join(removed) if removed else "none to delete"
    out.append(Action("event-rules", prefix + "*", prune, detail="remove the rules the flow no longer declares",
                      switches=True))
    return out
