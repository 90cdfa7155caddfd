"""The Argo Workflows target: a WorkflowTemplate (one DAG), a CronWorkflow for @schedule, an Argo
Events Sensor for @trigger / @trigger_on_finish (sensor.py) and a ConfigMap holding the code
package, as multi-document YAML.

Pipeline: check (diagnostics first) -> layout (names, scopes) -> templates (one per step) ->
dag (main, foreach bodies, recursive switches) -> documents -> serialize.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from compiler import triggers as trigger_model
from compiler.diagnostics import ERROR, Diagnostic
from compiler.ir import FlowPlan
from compiler.targets import serialize
from compiler.targets.argo import arguments, codes, cron, dag, names, resources, sensor, templates
from compiler.targets.argo import check as checks
from compiler.targets.base import CodePackageRef, OutputFile

MANAGED_BY = {"app.kubernetes.io/managed-by": "flowc"}


class ArgoTarget:
    """`package_in_datastore=True` (for `flowc deploy`, which uploads the package): no ConfigMap;
    every container fetches the package with the bootstrap from the datastore URL."""

    name = "argo"
    capabilities = frozenset({
        "foreach", "nested-foreach", "static-split", "switch", "recursive-switch", "switch-in-foreach",
        "parameters", "schedule", "project", "trigger", "retry", "catch", "timeout", "environment", "resources",
        "kubernetes", "batch", "secrets-k8s", "embedded-code-package",
    })

    def __init__(self, package_in_datastore: bool = False):
        self.package_in_datastore = package_in_datastore

    # --- check ------------------------------------------------------------------------------
    def check(self, plan: FlowPlan, package: CodePackageRef | None = None) -> list[Diagnostic]:
        """Everything Argo cannot take, before emitting (check.py, one function per phase)."""
        out = checks.problems(plan, package, package_in_datastore=self.package_in_datastore)
        triggers, problems = trigger_model.analyze(plan)
        out += problems
        if triggers and not getattr(plan.settings, "datastore", None):
            out.append(Diagnostic(codes.TRIGGER_NO_DATASTORE, ERROR, "@trigger / @trigger_on_finish need a "
                                  "datastore setting: the Sensor's Workflows get no flowc-datastore argument",
                                  trigger_model.decorator_span(plan)))
        return out

    # --- emit -------------------------------------------------------------------------------
    def documents(self, plan: FlowPlan, package: CodePackageRef) -> list[dict[str, Any]]:
        settings = plan.settings
        wt_name = names.workflow_template_name(plan)
        cm_name = "flowc-code-" + package.sha256[:12]
        namespace = getattr(settings, "k8s_namespace", None)
        meta_common: dict[str, Any] = {}
        if namespace:
            meta_common["namespace"] = str(namespace)
        code_url = package.url if self.package_in_datastore else None
        if self.package_in_datastore and not code_url:
            raise ValueError("package_in_datastore needs the package's datastore URL (check() reports it)")
        configmap = None if code_url else {"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": cm_name, **meta_common, "labels": dict(MANAGED_BY)},
                     "binaryData": {resources.CODE_FILE: base64.b64encode(package.data).decode("ascii")}}
        self._sha = package.sha256
        lay = dag.layout(plan)
        step_templates = [templates.step_template(plan, plan.steps[s], lay.templates[s], package.sha256)
                          for s in plan.steps]
        annotations = {"flowc.dev/flow-name": plan.flow_name,
                       "flowc.dev/step-templates": json.dumps({v: k for k, v in lay.templates.items() if k != v},
                                                              sort_keys=True, separators=(",", ":")),
                       "flowc.dev/code-sha256": package.sha256}
        if plan.description:
            annotations["workflows.argoproj.io/description"] = plan.description.strip()
        if plan.env_reads:       # read at compile time with resolve_env: names only, never values
            annotations["flowc.dev/compile-env"] = ",".join(plan.env_reads)
        if plan.project:
            annotations["flowc.dev/project"] = plan.project
            annotations["flowc.dev/project-branch"] = str(plan.project_branch)
        if annotations["flowc.dev/step-templates"] == "{}":
            del annotations["flowc.dev/step-templates"]
        wt_meta = {"name": wt_name, **meta_common, "labels": dict(MANAGED_BY), "annotations": annotations}
        workflow_template = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
                             "metadata": wt_meta,
                             "spec": self._spec(plan, lay, None if code_url else cm_name, step_templates, code_url)}
        docs = [d for d in (configmap, workflow_template) if d is not None]
        if plan.schedule is not None:
            docs.append(cron.cron_workflow(plan, wt_name, {**meta_common, "labels": dict(MANAGED_BY)}))
        triggers, _ = trigger_model.analyze(plan)
        if triggers:
            docs.append(sensor.sensor(plan, triggers, {**meta_common, "labels": dict(MANAGED_BY)}))
        return docs

    def _spec(self, plan: FlowPlan, lay: dag.Layout, cm_name: str | None, step_templates: list,
              code_url: str | None) -> dict[str, Any]:
        settings = plan.settings
        params: list[dict[str, Any]] = []
        for p in plan.parameters:
            entry: dict[str, Any] = {"name": p.name}
            value = arguments.parameter_value(p, plan.path)
            if value is not None:
                entry["value"] = value
            elif not p.required:
                entry["value"] = ""      # not required, no default: "" means "not given"
            if p.help:
                entry["description"] = str(p.help)
            params.append(entry)
        datastore = {"name": templates.DATASTORE_PARAM}
        if getattr(settings, "datastore", None):
            datastore["value"] = str(settings.datastore)
        params.append(datastore)
        env = []
        if getattr(settings, "s3_endpoint", None):
            env.append({"name": "AWS_ENDPOINT_URL", "value": str(settings.s3_endpoint)})
        if getattr(settings, "aws_region", None):
            env.append({"name": "AWS_DEFAULT_REGION", "value": str(settings.aws_region)})
        if code_url:
            env.append({"name": "FLOWC_CODE_SHA256", "value": self._sha})
        env += sensor.runtime_env(plan)   # a finished run publishes its completion event
        if code_url:   # @batch jobs carry the bootstrap in their compiled job definition
            env.append({"name": "FLOWC_BOOTSTRAP", "value": resources.bootstrap_source()})
        spec: dict[str, Any] = {"entrypoint": dag.MAIN, "arguments": {"parameters": params}}
        if getattr(settings, "k8s_service_account", None):
            spec["serviceAccountName"] = str(settings.k8s_service_account)
        if getattr(settings, "max_workers", None):
            spec["parallelism"] = int(settings.max_workers)
        if getattr(settings, "workflow_timeout", None):
            spec["activeDeadlineSeconds"] = int(settings.workflow_timeout)
        if getattr(settings, "ttl_seconds", None) is not None:
            spec["ttlStrategy"] = {"secondsAfterCompletion": int(settings.ttl_seconds)}
        if getattr(settings, "pod_gc", None):
            spec["podGC"] = {"strategy": str(settings.pod_gc)}
        if resources.image_pull_secrets(plan):      # @kubernetes(image_pull_secrets=...)
            spec["imagePullSecrets"] = resources.image_pull_secrets(plan)
        spec["volumes"] = resources.workflow_volumes(cm_name)
        spec["templateDefaults"] = {"container": resources.default_container(settings, env, code_url=code_url)}
        spec["templates"] = dag.dag_templates(plan, lay) + step_templates
        if plan.exit_hooks:     # @exit_hook (templates.exit_hook_templates)
            spec["onExit"] = templates.EXIT_HANDLER
            spec["templates"] += templates.exit_hook_templates(plan)
        return spec

    def emit(self, plan: FlowPlan, code_package: CodePackageRef) -> list[OutputFile]:
        docs = self.documents(plan, code_package)
        base = names.workflow_template_name(plan)
        suffix = {"ConfigMap": "-code", "WorkflowTemplate": "", "CronWorkflow": "-cron", "Sensor": "-sensor"}
        return [OutputFile(f"{base}{suffix[d['kind']]}.yaml", serialize.to_yaml(d).encode("utf-8"), documents=(d,))
                for d in docs]


__all__ = ["ArgoTarget"]
