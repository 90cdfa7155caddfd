"""Deploy an @trigger flow's Argo Events Sensor after its WorkflowTemplate, and remove the Sensor of
a flow that no longer declares a trigger (a Sensor shares the WorkflowTemplate's name)."""
from __future__ import annotations

import functools
from typing import Any

from compiler.deploy import ARGO_GROUP as GROUP
from compiler.deploy import ARGO_VERSION as VERSION
from compiler.deploy import Action, put_custom_object

PLURAL = "sensors"


def put_sensor(custom, namespace: str, body: dict[str, Any]) -> str:
    return put_custom_object(custom, namespace, PLURAL, body, compared=("labels", "annotations"))


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
