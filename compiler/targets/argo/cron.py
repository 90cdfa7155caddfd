"""@schedule -> a CronWorkflow that starts the WorkflowTemplate (docs/cron-workflows.md)."""
from __future__ import annotations

from typing import Any

from compiler.ir import FlowPlan
from compiler.targets.argo.names import cron_workflow_name


def cron_workflow(plan: FlowPlan, template_name: str, metadata: dict[str, Any]) -> dict[str, Any]:
    schedule = plan.schedule
    spec: dict[str, Any] = {"schedules": [schedule.cron]}
    if schedule.timezone:
        spec["timezone"] = schedule.timezone
    spec["concurrencyPolicy"] = str(getattr(plan.settings, "concurrency_policy", None) or "Allow")
    spec["workflowSpec"] = {"workflowTemplateRef": {"name": template_name}}
    meta = dict(metadata)
    meta["name"] = cron_workflow_name(plan)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
            "metadata": {"name": meta.pop("name"), **meta}, "spec": spec}


def schedule_problem(plan: FlowPlan) -> str | None:
    if plan.schedule is None:
        return None
    if len(plan.schedule.cron.split()) != 5:
        return f"cron expression {plan.schedule.cron!r} does not have five fields"
    return None
