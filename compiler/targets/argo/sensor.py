"""@trigger / @trigger_on_finish -> an Argo Events Sensor beside the WorkflowTemplate.

As Metaflow compiles it (plugins/argo/argo_workflows.py `_compile_sensor`): every event arrives
through one webhook EventSource (`argo_events_source`, event `argo_events_event`) as the JSON body
`{"name": NAME, "payload": {...}}`; each flowc event is a dependency on that source whose data
filter keeps the bodies with `body.name` matching `^NAME$` (dots escaped: the filter is a
regexp). The Sensor's one trigger creates a Workflow from
the WorkflowTemplate (`k8s` trigger, operation create) once every dependency has an event: with no
`conditions`, a trigger waits for all of its dependencies (an AND). Each mapped parameter is a
trigger parameter: `src.dataKey: body.payload.<field>` (gjson), `src.value` the parameter's
default when the field is absent, `dest: spec.arguments.parameters.<i>.value` (sjson). flowc
uses dataKey, not Metaflow's Go-template dataTemplate, so no user value passes through a template.

@trigger_on_finish listens for `metaflow.<project>.<branch>.<Flow>.end`, which flowc's runtime
publishes (as Metaflow's does) to `argo_events_webhook_url` when the upstream's end step succeeds.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from compiler.ir import FlowPlan
from compiler.targets.argo import arguments, names
from compiler.triggers import Triggers

FINISH_EVENT_ENV = "FLOWC_FINISH_EVENT"       # the event a successful run publishes
WEBHOOK_ENV = "FLOWC_EVENTS_WEBHOOK"          # where the runtime posts it


def dependency_name(event: str) -> str:
    """A dependency name Argo Events takes in `conditions` expressions: [a-z0-9_], unique by hash."""
    stem = re.sub(r"[^a-z0-9]+", "_", event.lower()).strip("_")[:40] or "event"
    return "%s_%s" % (stem, hashlib.sha256(event.encode()).hexdigest()[:6])


def sensor(plan: FlowPlan, triggers: Triggers, metadata: dict[str, Any]) -> dict[str, Any]:
    settings = plan.settings
    wt_name = names.workflow_template_name(plan)
    dependencies = []
    for dep in triggers.dependencies:
        dependencies.append({
            "name": dependency_name(dep.name),
            "eventSourceName": str(getattr(settings, "argo_events_source", None) or "flowc-events"),
            "eventName": str(getattr(settings, "argo_events_event", None) or "flowc"),
            # string data filters are unanchored Go regexps (dependencies/filter.go filterData)
            "filters": {"data": [{"path": "body.name", "type": "string",
                                  "value": ["^" + dep.name.replace(".", "\\.") + "$"]}]},
        })
    by_name = {p.name: p for p in plan.parameters}
    workflow_params: list[dict[str, str]] = []
    trigger_params: list[dict[str, Any]] = []
    for dep in triggers.dependencies:
        for param, payload_field in dep.parameters:
            default = arguments.parameter_value(by_name[param], plan.path)
            src: dict[str, Any] = {"dependencyName": dependency_name(dep.name),
                                   "dataKey": "body.payload." + payload_field}
            if default is not None:
                src["value"] = default
            trigger_params.append({"src": src,
                                   "dest": "spec.arguments.parameters.%d.value" % len(workflow_params)})
            workflow_params.append({"name": param, "value": default if default is not None else ""})
    workflow_meta: dict[str, Any] = {"generateName": wt_name + "-",
                                     "annotations": {"flowc.dev/triggered-by": ",".join(
                                         d.name for d in triggers.dependencies)}}
    if metadata.get("namespace"):
        workflow_meta["namespace"] = metadata["namespace"]
    workflow: dict[str, Any] = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                "metadata": workflow_meta,
                                "spec": {"workflowTemplateRef": {"name": wt_name}}}
    if workflow_params:
        workflow["spec"]["arguments"] = {"parameters": workflow_params}
    k8s: dict[str, Any] = {"operation": "create", "source": {"resource": workflow}}
    if trigger_params:
        k8s["parameters"] = trigger_params
    template: dict[str, Any] = {"name": wt_name, "k8s": k8s}
    reset = triggers.options.get("reset_at")
    if isinstance(reset, dict) and reset.get("cron"):
        template["conditionsReset"] = [{"byTime": {k: str(reset[k]) for k in ("cron", "timezone") if reset.get(k)}}]
    spec: dict[str, Any] = {"eventBusName": str(getattr(settings, "argo_events_bus", None) or "default"),
                            "dependencies": dependencies, "triggers": [{"template": template}]}
    account = getattr(settings, "argo_events_service_account", None)
    if account:
        spec["template"] = {"serviceAccountName": str(account)}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Sensor",
            "metadata": {"name": wt_name, **metadata,
                         "annotations": {"flowc.dev/flow-name": plan.flow_name}},
            "spec": spec}


def runtime_env(plan: FlowPlan) -> list[dict[str, str]]:
    """What a task needs to publish the run's completion event (only the end step does)."""
    url = getattr(plan.settings, "argo_events_webhook_url", None)
    if not url:
        return []
    from compiler.triggers import finish_event_name

    return [{"name": WEBHOOK_ENV, "value": str(url)},
            {"name": FINISH_EVENT_ENV, "value": finish_event_name(plan.name_parts or (plan.flow_name,))}]
