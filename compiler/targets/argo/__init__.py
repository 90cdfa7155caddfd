"""The Argo Workflows target: a WorkflowTemplate (one DAG), a CronWorkflow for @schedule and a
ConfigMap holding the code package, as multi-document YAML.

Pipeline: check (diagnostics first) -> layout (names, scopes) -> templates (one per step) ->
dag (main, foreach bodies, recursive switches) -> documents -> serialize.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from compiler.compute import batch as compute_batch
from compiler.diagnostics import ERROR, WARNING, Diagnostic
from compiler.ir import FlowPlan
from compiler.targets import serialize
from compiler.targets.argo import codes, cron, dag, names, resources, templates
from compiler.targets.base import CodePackageRef, OutputFile

CONFIGMAP_LIMIT = 1024 * 1024        # Kubernetes: a ConfigMap holds at most 1 MiB
MANAGED_BY = {"app.kubernetes.io/managed-by": "flowc"}


INCLUDE_LIMIT = 256 * 1024          # an IncludeFile default carried in the workflow arguments


def include_file_content(plan_path: str, p) -> tuple[str | None, str | None]:
    """(content, problem) of an IncludeFile default, read relative to the flow's directory."""
    import os

    path = os.path.join(os.path.dirname(os.path.abspath(plan_path)), str(p.default))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, f"IncludeFile {p.name!r}: cannot read its default {p.default!r}: {e.strerror}"
    if len(data) > INCLUDE_LIMIT:
        return None, f"IncludeFile {p.name!r}: {p.default!r} is {len(data)} bytes, more than {INCLUDE_LIMIT} fit in a workflow argument"
    try:
        return data.decode(p.encoding or "utf-8"), None
    except (UnicodeDecodeError, LookupError):
        return None, f"IncludeFile {p.name!r}: {p.default!r} is not text; a workflow argument carries text only"


def _parameter_value(p, plan_path: str = "") -> str | None:
    """Workflow argument default: strings as given, JSON as text, None stays absent.

    IncludeFile defaults are paths on the compiling machine: like Metaflow, the compiled workflow
    carries the file's content (a remote run receives content, docs/runtime-contract.md)."""
    if p.kind == "include_file":
        return include_file_content(plan_path, p)[0] if p.has_default and p.default else None
    if not p.has_default or p.default is None or p.required:
        return None
    value = p.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _template_strings(step, settings) -> list[tuple[str, str]]:
    """User text that lands in a step's template (where Argo substitutes `{{...}}` tags)."""
    c = step.compute
    out = [(f"environment variable {k}", v) for k, v in step.env.items()]
    out += [(f"annotation {k}", v) for k, v in c.annotations]
    out += [("image", c.image or getattr(settings, "image", None)), ("image pull policy", c.image_pull_policy),
            ("tmpfs path", c.tmpfs_path if (c.use_tmpfs or c.tmpfs_size) else None), ("queue", c.queue),
            ("IAM role", c.iam_role), ("execution role", c.execution_role)]
    for claim, path in c.persistent_volume_claims:
        out += [("volume claim", claim), ("volume path", path)]
    for t in c.tolerations_list() if c.tolerations else []:
        out += [("toleration", v) for v in t.values()]
    return [(what, str(v)) for what, v in out if v is not None]


def _b64_len(n: int) -> int:
    return 4 * ((n + 2) // 3)


def _size_problems(plan: FlowPlan) -> list[Diagnostic]:
    """FC317: a value the start step could not exec (templates.param_b64 makes each one argv entry
    `NAME=BASE64`; Linux caps one string at MAX_ARG_STRLEN). On Argo v3.5 the template JSON with
    every value is also the ARGO_TEMPLATE environment string of each container
    (workflow/controller/workflowpod.go createWorkflowPod)."""
    out = []
    total = 0
    for p in plan.parameters:
        value = _parameter_value(p, plan.path)
        if value is None:
            continue
        size = len(p.name) + 1 + _b64_len(len(value.encode("utf-8", "surrogateescape"))) + 1
        total += size + len(p.name) + 40          # the template JSON also names each input
        if size > MAX_ARG_STRLEN:
            what = "IncludeFile content" if p.kind == "include_file" else "default"
            out.append(Diagnostic(codes.VALUE_TOO_LARGE, ERROR,
                                  f"parameter {p.name!r}: its {what} is {len(value.encode('utf-8', 'surrogateescape'))} bytes, "
                                  f"{size} as the start step's argument; one argument can be at most {MAX_ARG_STRLEN} bytes "
                                  "(about 96 KiB of value)", p.span))
    version = cron.version_tuple(getattr(plan.settings, "argo_version", None)) or (4, 1)
    if not out and version < (3, 6) and total + TEMPLATE_OVERHEAD > MAX_ARG_STRLEN:
        out.append(Diagnostic(codes.VALUE_TOO_LARGE, ERROR,
                              f"the parameter defaults take {total} bytes in the start step's template; on Argo "
                              f"v3.5 the template is one environment string (ARGO_TEMPLATE) of at most {MAX_ARG_STRLEN} bytes",
                              plan.parameters[0].span if plan.parameters else None))
    return out


# Linux MAX_ARG_STRLEN (32 pages): one argv or environment string, with its NUL
MAX_ARG_STRLEN = 131072
TEMPLATE_OVERHEAD = 16 * 1024        # the start template's JSON without values, bootstrap included


# The queue a @batch step names when none is configured, as on Step Functions: the output still
# compiles (CI without settings), FC306 says so, and deploy's preflight refuses a queue that does not exist.
PLACEHOLDER_QUEUE = compute_batch.PLACEHOLDER_QUEUE


class ArgoTarget:
    """`package_in_datastore=True` (for `flowc deploy`, which uploads the package): no ConfigMap;
    every container fetches the package with the bootstrap from the datastore URL."""

    name = "argo"
    capabilities = frozenset({
        "foreach", "nested-foreach", "static-split", "switch", "recursive-switch", "switch-in-foreach",
        "parameters", "schedule", "project", "retry", "catch", "timeout", "environment", "resources",
        "kubernetes", "batch", "secrets-k8s", "embedded-code-package",
    })

    def __init__(self, package_in_datastore: bool = False):
        self.package_in_datastore = package_in_datastore

    # --- check ------------------------------------------------------------------------------
    def check(self, plan: FlowPlan, package: CodePackageRef | None = None) -> list[Diagnostic]:
        out: list[Diagnostic] = []

        def diag(code, severity, message, span=None):
            out.append(Diagnostic(code, severity, message, span))

        settings = plan.settings
        for p in plan.parameters:
            if not names.is_param_name(p.name):
                diag(codes.BAD_PARAMETER_NAME, ERROR, f"parameter {p.name!r}: Argo parameter names allow only letters, digits, '-' and '_'", p.span)
            if p.name.startswith("flowc-"):
                diag(codes.RESERVED_PARAMETER, ERROR, f"parameter {p.name!r}: names beginning with 'flowc-' are reserved", p.span)
            value = _parameter_value(p, plan.path)
            bad = names.not_utf8(value) if value is not None else None
            if bad is not None:
                diag(codes.UNSUBSTITUTABLE, ERROR, f"parameter {p.name!r}: its default holds {bad!r} (U+{ord(bad):04X}), "
                     "which is not UTF-8 text: Kubernetes cannot store it in the workflow", p.span)
            if p.kind == "include_file" and p.has_default and p.default:
                problem = include_file_content(plan.path, p)[1]
                if problem:
                    diag(codes.INCLUDE_FILE, ERROR, problem + " (use `flowc deploy`, or pass the content when submitting)", p.span)
        for step in plan.steps.values():
            c = step.compute
            for key, value in c.labels:
                if not names.is_label_key(key):
                    diag(codes.BAD_LABEL, ERROR, f"step {step.name}: label key {key!r} is not a valid Kubernetes label key", step.span)
                if not names.is_label_value(value):
                    diag(codes.BAD_LABEL, ERROR, f"step {step.name}: label value {value!r} (key {key!r}) is not a valid Kubernetes label value", step.span)
            for key, _ in c.annotations:
                if not names.is_annotation_key(key):
                    diag(codes.BAD_LABEL, ERROR, f"step {step.name}: annotation key {key!r} is not a valid Kubernetes annotation key", step.span)
            for key, value in c.node_selector:
                if not (names.is_label_key(key) and names.is_label_value(value)):
                    diag(codes.BAD_LABEL, ERROR, f"step {step.name}: node selector {key}={value!r} is not a valid Kubernetes label", step.span)
            for secret in c.k8s_secrets:
                if not names.is_dns_subdomain(secret):
                    diag(codes.BAD_LABEL, ERROR, f"step {step.name}: secret name {secret!r} is not a valid Kubernetes name", step.span)
            if c.service_account and not names.is_dns_subdomain(c.service_account):
                diag(codes.BAD_LABEL, ERROR, f"step {step.name}: service account {c.service_account!r} is not a valid Kubernetes name", step.span)
            image = c.image or getattr(settings, "image", None)
            if image and not names.is_image_reference(str(image)):
                diag(codes.BAD_LABEL, ERROR, f"step {step.name}: image {str(image)[:80]!r} is not a valid container image reference", step.span)
            for what, value in _template_strings(step, settings):
                if "{{" in value:
                    diag(codes.TEMPLATE_TAG, ERROR, f"step {step.name}: {what} {value[:80]!r} holds '{{{{', which Argo would substitute", step.span)
            for key in step.env:
                if not names.is_env_name(key):
                    diag(codes.BAD_LABEL, ERROR, f"step {step.name}: environment variable name {key!r} is not valid in Kubernetes", step.span)
            namespace = getattr(settings, "k8s_namespace", None)
            if c.namespace and c.namespace != namespace:
                diag(codes.NAMESPACE_IGNORED, WARNING, f"step {step.name}: namespace {c.namespace!r} is ignored; every pod runs in the workflow's namespace ({namespace or 'the namespace it is submitted to'})", step.span)
            datastore = str(getattr(settings, "datastore", None) or "")
            if c.backend == "batch" and datastore and not datastore.startswith("s3://"):
                diag(codes.BATCH_NEEDS_S3, ERROR, f"step {step.name}: @batch runs on AWS Batch, which cannot reach the datastore {datastore}", step.span)
            if c.backend == "batch" and not (c.queue or getattr(settings, "batch_queue", None)):
                diag(codes.BATCH_NO_QUEUE, WARNING, f"step {step.name}: @batch has no job queue (queue=... or FLOWC_BATCH_QUEUE); the workflow names the placeholder queue {PLACEHOLDER_QUEUE!r}", step.span)
        for trigger in plan.triggers:
            diag(codes.TRIGGER_IGNORED, WARNING, f"@{trigger.get('kind', 'trigger')} is not compiled for Argo (needs Argo Events)")
        for step in plan.steps.values():
            if step.kind == "parallel" or step.num_parallel:
                diag(codes.PARALLEL_UNGANGED, WARNING, f"step {step.name}: num_parallel={step.num_parallel} runs as {step.num_parallel} independent pods", step.span)
        for step, why in dag.unsupported(plan):
            diag(codes.UNSUPPORTED_SHAPE, ERROR, why, step.span)
        for problem, span in cron.schedule_problems(plan):
            diag(codes.BAD_SCHEDULE, ERROR, problem, span)
        problem = cron.version_problem(plan)
        if problem:
            diag(codes.BAD_SCHEDULE, ERROR, problem)
        lay = dag.layout(plan)
        for step in plan.steps.values():
            if step.recursive:
                passes = dag.max_passes(2 + dag.foreach_depth(plan, lay, step.name))
                diag(codes.RECURSION_DEPTH, WARNING, f"step {step.name}: a recursive switch makes at most {passes} "
                     "passes on Argo (templates nest at most 100 deep)", step.span)
        out += _size_problems(plan)
        if not getattr(settings, "datastore", None):
            diag(codes.NO_DATASTORE, WARNING, "no datastore setting: submissions must pass the argument flowc-datastore")
        size = None if self.package_in_datastore or package is None else len(package.data)
        if self.package_in_datastore and not str(getattr(settings, "datastore", None) or "").startswith("s3://"):
            diag(codes.NO_DATASTORE, ERROR, "the code package goes to the datastore: set an s3:// datastore")
        if size is not None and size > CONFIGMAP_LIMIT:
            diag(codes.PACKAGE_TOO_LARGE, ERROR,
                 f"the code package is {size} bytes; a ConfigMap holds at most {CONFIGMAP_LIMIT}: "
                 "use `flowc deploy --target argo`, which stores it in the datastore")
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
        return docs

    def _spec(self, plan: FlowPlan, lay: dag.Layout, cm_name: str | None, step_templates: list,
              code_url: str | None) -> dict[str, Any]:
        settings = plan.settings
        params: list[dict[str, Any]] = []
        for p in plan.parameters:
            entry: dict[str, Any] = {"name": p.name}
            value = _parameter_value(p, plan.path)
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
        spec["volumes"] = resources.workflow_volumes(cm_name)
        spec["templateDefaults"] = {"container": resources.default_container(settings, env, code_url=code_url)}
        spec["templates"] = dag.dag_templates(plan, lay) + step_templates
        return spec

    def emit(self, plan: FlowPlan, code_package: CodePackageRef) -> list[OutputFile]:
        docs = self.documents(plan, code_package)
        base = names.workflow_template_name(plan)
        suffix = {"ConfigMap": "-code", "WorkflowTemplate": "", "CronWorkflow": "-cron"}
        return [OutputFile(f"{base}{suffix[d['kind']]}.yaml", serialize.to_yaml(d).encode("utf-8"), documents=(d,))
                for d in docs]


__all__ = ["ArgoTarget"]
