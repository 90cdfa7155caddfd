"""Deploy an @trigger flow's Argo Events Sensor after its WorkflowTemplate, and remove the Sensor of
a flow that no longer declares a trigger (a Sensor shares the WorkflowTemplate's name)."""
from __future__ import annotations

import functools
import json
from typing import Any

from compiler.deploy import Action

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "sensors"


def put_sensor(custom, namespace: str, body: dict[str, Any]) -> str:
    from kubernetes.client.exceptions import ApiException

    name = body["metadata"]["name"]
    body = json.loads(json.dumps(body))
    body["metadata"]["namespace"] = namespace
    try:
        current = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as error:
        if error.status != 404:
            raise
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
        return "created"
    meta = current.get("metadata", {})
    if current.get("spec") == body.get("spec") and meta.get("labels") == body["metadata"].get("labels") \
            and meta.get("annotations") == body["metadata"].get("annotations"):
        return "unchanged"
    body["metadata"]["resourceVersion"] = meta.get("resourceVersion")
    custom.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)
    return "replaced"


def remove_sensor(custom, namespace: str, name: str, flow_name: str) -> str:
    """Delete the flow's Sensor if one is deployed (only one flowc made for this flow)."""
    from kubernetes.client.exceptions import ApiException

    try:
        current = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as error:
        if error.status != 404:
            raise
        return "none deployed"
    meta = current.get("metadata", {})
    if meta.get("labels", {}).get("app.kubernetes.io/managed-by") != "flowc" or \
            meta.get("annotations", {}).get("flowc.dev/flow-name") != flow_name:
        return "kept (not flowc's sensor for this flow)"
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    return "deleted"


def actions(custom, namespace: str, docs: list[dict[str, Any]], flow_name: str) -> list[Action]:
    """After the WorkflowTemplate: put the Sensor, or remove the one the flow no longer declares."""
    template = next(d for d in docs if d.get("kind") == "WorkflowTemplate")["metadata"]["name"]
    sensors = [d for d in docs if d.get("kind") == "Sensor"]
    if sensors:
        return [Action("sensor", f"{namespace}/{d['metadata']['name']}",
                       functools.partial(put_sensor, custom, namespace, d), switches=True) for d in sensors]
    return [Action("sensor", f"{namespace}/{template}",
                   functools.partial(remove_sensor, custom, namespace, template, flow_name),
                   detail="the flow declares no trigger: delete one deployed before", switches=True)]
