"""`flowc trigger --event NAME --payload JSON`: publish an event the way a user's system would.
Each target's deployer exposes `publish_event(name, payload, settings)` built from these:

Argo: POST `{"name": NAME, "payload": PAYLOAD}` to the webhook EventSource (argo_events_webhook_url),
the body the Sensors filter on. Step Functions: PutEvents on eventbridge_bus with source
eventbridge_source, detail-type NAME and the payload as detail, what the rules match.
"""
from __future__ import annotations

import json
from typing import Any

from compiler.deploy import DeployError


def _checked_name(name: str) -> None:
    from compiler.triggers import EVENT_NAME

    if not EVENT_NAME.match(name):
        raise DeployError(f"event name {name!r}: only letters, digits, _, - and . are allowed")


def to_webhook(name: str, payload: dict[str, Any], settings: Any) -> str:
    from runtime_shim import events

    _checked_name(name)
    url = getattr(settings, "argo_events_webhook_url", None)
    if not url:
        raise DeployError("setting argo_events_webhook_url is not set: pass --argo-events-webhook-url "
                          "or set FLOWC_ARGO_EVENTS_WEBHOOK_URL")
    try:
        sent = events.publish(str(url), name, payload)
    except OSError as error:
        raise DeployError(f"could not post event {name} to {url}: {error}") from None
    return str(sent["payload"]["id"])


def to_eventbridge(name: str, payload: dict[str, Any], settings: Any) -> str:
    from compiler.compute import aws

    _checked_name(name)
    client = aws.session(settings).client("events")
    response = client.put_events(Entries=[{
        "Source": str(getattr(settings, "eventbridge_source", None) or "flowc"), "DetailType": name,
        "Detail": json.dumps(payload, sort_keys=True),
        "EventBusName": str(getattr(settings, "eventbridge_bus", None) or "default")}])
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise DeployError(f"EventBridge refused event {name}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
    return str(entry["EventId"])
