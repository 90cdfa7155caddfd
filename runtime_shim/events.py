"""Publishing flowc events (stdlib only): the body Argo Events' webhook EventSource receives and the
Sensors of @trigger flows filter, `{"name": NAME, "payload": {...}}` (Metaflow's ArgoEvent).

A run's end step publishes its completion event when the compiled workflow gave it a webhook
(FLOWC_EVENTS_WEBHOOK) and the event's name (FLOWC_FINISH_EVENT): that is what starts the flows
with @trigger_on_finish on Argo. As in Metaflow, a failure to publish is reported and does not fail
the task, whose work is done.
"""
from __future__ import annotations

import json
import os
import sys
import time

WEBHOOK_ENV = "FLOWC_EVENTS_WEBHOOK"
FINISH_EVENT_ENV = "FLOWC_FINISH_EVENT"


def body(name: str, payload: dict) -> dict:
    import uuid

    return {"name": name, "payload": dict({"name": name, "id": str(uuid.uuid4()), "timestamp": int(time.time())},
                                          **payload)}


def publish(url: str, name: str, payload: dict, timeout: float = 30.0) -> dict:
    """POST the event; returns the body sent. Raises OSError (urllib's errors) when it fails."""
    import urllib.request  # here: every task imports this module, few publish

    sent = body(name, payload)
    request = urllib.request.Request(url, data=json.dumps(sent).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
    return sent


def finish_payload(flow_name: str, run_id: str, step: str, task_id: str) -> dict:
    pathspec = "%s/%s/%s/%s" % (flow_name, run_id, step, task_id)
    return {"id": pathspec, "pathspec": pathspec, "flow_name": flow_name, "run_id": run_id,
            "step_name": step, "task_id": task_id, "auto-generated-by-metaflow": True}


def on_task_success(flow_name: str, run_id: str, step: str, task_id: str, end_step: str | None) -> None:
    """After the end step succeeded: publish the run's completion event, if the workflow asks for it."""
    url, name = os.environ.get(WEBHOOK_ENV), os.environ.get(FINISH_EVENT_ENV)
    if not url or not name or step != end_step:
        return
    try:
        publish(url, name, finish_payload(flow_name, run_id, step, task_id))
        print("[flowc] event %s published" % name, file=sys.stderr)
    except (OSError, ValueError) as error:
        print("[flowc] could not publish event %s: %s" % (name, error), file=sys.stderr)
