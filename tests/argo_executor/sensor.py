"""A small Argo Events Sensor evaluator: events in, the Workflows the Sensor's k8s trigger creates out.

It implements only what flowc's Sensors use, each rule as Argo Events documents (and implements) it:
- An event reaches a dependency when its EventSource and event name are the dependency's
  (https://argoproj.github.io/argo-events/concepts/sensor/ "Dependencies").
- Data filters (https://argoproj.github.io/argo-events/sensors/filters/data/,
  pkg/sensors/dependencies/filter.go filterData): `path` is a gjson path into the event data; a
  path that does not exist fails the filter; a `string` filter passes when ANY of its values, a
  Go regexp, matches (unanchored) the value at the path; all filters of a dependency must pass.
- A webhook EventSource's event data is `{"header": ..., "body": <the posted JSON>}`
  (https://argoproj.github.io/argo-events/eventsources/setup/webhook/).
- A trigger without `conditions` fires once every dependency has an event; the events it used
  are then consumed (https://argoproj.github.io/argo-events/sensors/trigger-conditions/).
- Trigger parameters (https://argoproj.github.io/argo-events/tutorials/02-parameterization/,
  pkg/sensors/triggers/params.go ResolveParamValue / getValueByKey): `src.dataKey` is a gjson
  path into the dependency's event data; an object or array gives its raw JSON, another value its
  string form; a missing key gives `src.value`, or, without one, the trigger fails. `dest` is an
  sjson path into the resource (only `a.b.N.c` paths of keys and list indexes are used here).
- The k8s trigger with `operation: create` creates `source.resource`
  (https://argoproj.github.io/argo-events/sensors/triggers/k8s-object-trigger/).
gjson paths are walked as dot-separated keys and list indexes (flowc's paths hold no wildcards,
escapes or modifiers; FC243 keeps payload fields to [A-Za-z0-9_]).
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any

_MISSING = object()


class TriggerFailed(Exception):
    """A trigger parameter could not be resolved: the Sensor creates nothing."""


def gjson_get(data: Any, path: str) -> Any:
    node = data
    for key in path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return _MISSING
    return node


def gjson_string(value: Any) -> str:
    """getValueByKey: raw JSON for objects and arrays (and null), String() for the rest."""
    if isinstance(value, (dict, list)) or value is None:
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sjson_set(doc: Any, path: str, value: str) -> None:
    keys = path.split(".")
    node = doc
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


class SensorEvaluator:
    def __init__(self, sensor: dict[str, Any]):
        assert sensor["kind"] == "Sensor"
        self.sensor = sensor
        self.dependencies = sensor["spec"]["dependencies"]
        self.triggers = sensor["spec"]["triggers"]
        self.pending: dict[str, dict[str, Any]] = {}     # dependency name -> event data

    def _passes(self, dependency: dict[str, Any], data: Any) -> bool:
        for f in (dependency.get("filters") or {}).get("data", []):
            value = gjson_get(data, f["path"])
            if value is _MISSING:
                return False
            assert f.get("type") == "string", "only string data filters are used"
            if not any(re.search(pattern, gjson_string(value)) for pattern in f["value"]):
                return False
        return True

    def receive(self, event_source: str, event_name: str, body: Any, header: dict | None = None
                ) -> list[dict[str, Any]]:
        """One event from a webhook EventSource; returns the resources created (0 or more)."""
        data = {"header": header or {}, "body": body}
        for dep in self.dependencies:
            if dep["eventSourceName"] == event_source and dep["eventName"] == event_name and self._passes(dep, data):
                self.pending[dep["name"]] = data
        names = {d["name"] for d in self.dependencies}
        if not names <= set(self.pending):
            return []
        events, self.pending = self.pending, {}
        created = []
        for trigger in self.triggers:
            template = trigger["template"]
            assert "conditions" not in template, "flowc's Sensors wait for every dependency"
            k8s = template["k8s"]
            assert k8s["operation"] == "create"
            resource = copy.deepcopy(k8s["source"]["resource"])
            for param in k8s.get("parameters", []):
                src = param["src"]
                value = gjson_get(events[src["dependencyName"]], src["dataKey"]) \
                    if src["dependencyName"] in events else _MISSING
                if value is _MISSING:
                    if "value" not in src:
                        raise TriggerFailed(f"unable to resolve {src['dependencyName']!r}: "
                                            f"key {src['dataKey']} does not exist")
                    text = src["value"]
                else:
                    text = gjson_string(value)
                sjson_set(resource, param["dest"], text)
            created.append(resource)
        return created


def workflow_arguments(workflow: dict[str, Any]) -> dict[str, str]:
    """The parameters a created Workflow passes to its WorkflowTemplate."""
    return {p["name"]: p["value"] for p in workflow["spec"].get("arguments", {}).get("parameters", [])}
