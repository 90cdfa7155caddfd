"""Deploy to Argo Workflows with the kubernetes client (kubeconfig or in-cluster configuration)."""
from __future__ import annotations

import functools
import json
from typing import Any, cast

from compiler.deploy import ARGO_GROUP, ARGO_VERSION, Action, DeployError, DeployPlan, LazyClient, RunNotFound, put_custom_object
from compiler.targets.base import CodePackageRef, OutputFile

GROUP, VERSION = ARGO_GROUP, ARGO_VERSION
PLURALS = {"WorkflowTemplate": "workflowtemplates", "CronWorkflow": "cronworkflows", "Workflow": "workflows"}


def api_client(settings: Any):
    from compiler.compute.kubernetes import KubeConfigError, load_api_client

    try:
        return load_api_client(settings)
    except KubeConfigError as error:
        raise DeployError(str(error)) from None


def target_options(settings: Any) -> dict[str, Any]:
    """A deploy to an s3:// datastore uploads the code package there, so the pods fetch it
    instead of mounting a ConfigMap (no 1 MiB limit); otherwise the ConfigMap still carries it."""
    datastore = str(getattr(settings, "datastore", None) or "")
    return {"package_in_datastore": True} if datastore.startswith("s3://") else {}


def required_settings(settings: Any, connect: bool = True) -> list[tuple[str, str]]:
    return []      # the datastore is optional (the package travels in a ConfigMap without one)


def workflow_name_of_plan(plan: Any) -> str:
    from compiler.targets.argo.names import workflow_template_name

    return workflow_template_name(plan)


def namespace_of(settings: Any, api=None) -> str:
    configured = getattr(settings, "k8s_namespace", None)
    if configured:
        return str(configured)
    try:
        import os

        from kubernetes import config

        # the client reads $KUBECONFIG when it is imported; read it now (as load_api_client does)
        _, active = config.list_kube_config_contexts(config_file=os.environ.get("KUBECONFIG") or None)
        return active.get("context", {}).get("namespace") or "default"
    except Exception:  # in-cluster or no contexts: the default namespace
        return "default"


class KubeApiError(Exception):
    """A refused or failed Kubernetes API call, as one line (deploy.execute adds what was kept)."""


def api_error(error: BaseException) -> str:
    """The status code, the Status `reason` and its `message`; not the client's header dump."""
    code = getattr(error, "status", None)
    if not code:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        return "cannot reach the Kubernetes API: %s" % text
    try:
        body = json.loads(getattr(error, "body", None) or "{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    reason = body.get("reason") or getattr(error, "reason", None) or ""
    message = body.get("message") or str(getattr(error, "body", "") or "").strip()
    return "the Kubernetes API answered %s %s%s" % (code, reason, ": " + message if message else "")


def _client_errors() -> tuple[type[BaseException], ...]:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    return (ApiException, HTTPError)


def documents(files: list[OutputFile]) -> list[dict[str, Any]]:
    return [d for f in files for d in f.documents if isinstance(d, dict)]


def _put_custom(custom, namespace: str, body: dict[str, Any]) -> str:
    try:
        return put_custom_object(custom, namespace, PLURALS[body["kind"]], body)
    except _client_errors() as error:
        raise KubeApiError(api_error(error)) from None


def _put_config_map(core, namespace: str, body: dict[str, Any]) -> str:
    from kubernetes.client.exceptions import ApiException

    name = body["metadata"]["name"]
    try:
        try:
            core.read_namespaced_config_map(name, namespace)
            return "unchanged"  # named by the package hash: same name, same content
        except ApiException as error:
            if error.status != 404:
                raise
        body = json.loads(json.dumps(body))
        body["metadata"]["namespace"] = namespace
        try:
            core.create_namespaced_config_map(namespace, body)
        except ApiException as error:
            if error.status == 409:   # a concurrent deploy created it: same name, same content
                return "unchanged"
            raise
        return "created"
    except _client_errors() as error:
        raise KubeApiError(api_error(error)) from None


def _upload_package(package: CodePackageRef, settings: Any) -> str:
    from compiler.compute import aws

    return aws.upload_code_package(aws.session(settings).client("s3"), str(package.url), package.data)


def build_plan(flow_name: str, files: list[OutputFile], package: CodePackageRef, settings: Any) -> DeployPlan:
    from kubernetes import client

    namespace = namespace_of(settings)       # from the settings or the kubeconfig file: no request

    @functools.lru_cache(maxsize=None)
    def apis():   # connected on first use: a dry run builds the plan without a cluster
        api = api_client(settings)
        return client.CoreV1Api(api), client.CustomObjectsApi(api)

    def put_config_map(doc: dict[str, Any]) -> str:
        return _put_config_map(apis()[0], namespace, doc)

    def put_custom(doc: dict[str, Any]) -> str:
        return _put_custom(apis()[1], namespace, doc)
    plan = DeployPlan("argo", flow_name)
    if package.url and package.url.startswith("s3://"):
        plan.actions.append(Action("code-package", package.url, lambda: _upload_package(package, settings)))
    docs = documents(files)
    for doc in docs:
        if doc.get("kind") == "ConfigMap":
            plan.actions.append(Action("config-map", doc["metadata"]["name"],
                                       functools.partial(put_config_map, doc)))
    # The template before the cron workflow that starts it; both switch what runs.
    for kind in ("WorkflowTemplate", "CronWorkflow"):
        for doc in docs:
            if doc.get("kind") == kind:
                plan.actions.append(Action(kind.lower(), f"{namespace}/{doc['metadata']['name']}",
                                           functools.partial(put_custom, doc), switches=True))
    from compiler.deploy import argo_events  # the Sensor starts the template: it goes after it

    plan.actions += argo_events.actions(LazyClient(lambda: apis()[1]), namespace, docs, flow_name)
    return plan


def workflow_name(files: list[OutputFile]) -> str:
    """The WorkflowTemplate's name."""
    return next(d["metadata"]["name"] for d in documents(files) if d.get("kind") == "WorkflowTemplate")



def trigger(template: str, params: dict[str, str], settings: Any, run_id: str | None = None) -> str:
    from kubernetes import client

    from compiler.targets.argo.names import not_utf8

    for k, v in sorted(params.items()):
        bad = not_utf8(str(v))
        if bad is not None:
            raise DeployError(f"parameter {k}: the value holds {bad!r} (U+{ord(bad):04X}), which is not UTF-8 "
                              "text: Kubernetes cannot store it (see `flowc explain FC314`)")
    api = api_client(settings)
    namespace = namespace_of(settings, api)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow",
        "metadata": {"name": run_id} if run_id else {"generateName": template + "-"},
        "spec": {"workflowTemplateRef": {"name": template},
                 "arguments": {"parameters": [{"name": k, "value": v} for k, v in sorted(params.items())]}},
    }
    try:
        created = client.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "workflows", body)
    except _client_errors() as error:
        raise DeployError(f"cannot start a run of {namespace}/{template}: {api_error(error)}") from None
    return run_id_of(cast(dict[str, Any], created))


def run_id_of(workflow: dict[str, Any]) -> str:
    """The run id the compiled workflow gives its tasks: `<name>-<uid>` (targets/argo/templates.RUN_ID)."""
    return "%s-%s" % (workflow["metadata"]["name"], workflow["metadata"]["uid"])


def _name_of_run(run_id: str) -> str:
    """A run id's workflow name (a bare workflow name is taken as it is)."""
    import re

    m = re.fullmatch(r"(.+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", run_id)
    return m.group(1) if m else run_id


def status(template: str, settings: Any, run_id: str | None = None) -> dict[str, Any]:
    from kubernetes import client

    api = api_client(settings)
    namespace = namespace_of(settings, api)
    custom = client.CustomObjectsApi(api)
    try:
        if run_id is None:
            listed = custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, "workflows", label_selector=f"workflows.argoproj.io/workflow-template={template}")
            items = sorted(cast(dict[str, Any], listed).get("items", []),
                           key=lambda w: w["metadata"].get("creationTimestamp") or "")
            if not items:
                raise DeployError(f"{template} has no runs yet")
            workflow = items[-1]
        else:
            workflow = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "workflows", _name_of_run(run_id))
    except _client_errors() as error:
        if run_id and getattr(error, "status", None) == 404:
            raise RunNotFound(f"no run {run_id} of {template}") from None
        what = f"run {run_id}" if run_id else f"the runs of {template}"
        raise DeployError(f"cannot read {what} in {namespace}: {api_error(error)}") from None
    steps: dict[str, dict[str, int]] = {}
    for node in (workflow.get("status", {}).get("nodes") or {}).values():
        if node.get("type") != "Pod":
            continue
        step = node.get("templateName") or node.get("displayName", "?")
        counts = steps.setdefault(step, {})
        phase = node.get("phase", "Pending")
        counts[phase] = counts.get(phase, 0) + 1
    return {"run_id": run_id_of(workflow), "status": workflow.get("status", {}).get("phase", "Pending"),
            "steps": steps}


def publish_event(name: str, payload: dict[str, Any], settings: Any) -> str:
    """`flowc trigger --event`: what this target's event listeners receive (deploy/publish.py)."""
    from compiler.deploy.publish import to_webhook

    return to_webhook(name, payload, settings)
