"""`flowc deploy`: from a flow file to a deployed workflow, in a safe order.

The order is what keeps a half-finished deploy harmless: the code package first (content-addressed,
so uploading it never disturbs a running version), then Batch job definitions (new names or new
revisions, unused until referenced), and the state machine / workflow template LAST, so a deploy
that fails midway leaves the previous version running. Every action is idempotent: deploying the
same flow twice changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class DeployError(RuntimeError):
    """A deploy that cannot go on; the message says what failed and what still runs."""


class RunNotFound(DeployError):
    """The engine has no run of that id (Kubernetes 404, ExecutionDoesNotExist)."""


@dataclass
class Action:
    """One step of a deploy plan; `run` does it and returns what it did ("created", "unchanged"...)."""

    kind: str                                 # "code-package" | "job-definition" | "state-machine" | ...
    name: str
    run: Callable[[], str]
    detail: str = ""
    switches: bool = False                    # changes what runs (state machine, template, schedule)


@dataclass
class DeployPlan:
    target: str
    flow_name: str
    actions: list[Action] = field(default_factory=list)

    def describe(self) -> list[str]:
        return [f"{a.kind:<16} {a.name}{'  ' + a.detail if a.detail else ''}" for a in self.actions]


def execute(plan: DeployPlan, progress: Callable[[str], None]) -> list[tuple[Action, str]]:
    done: list[tuple[Action, str]] = []
    for number, action in enumerate(plan.actions, 1):
        progress(f"[{number}/{len(plan.actions)}] {action.kind} {action.name} ...")
        try:
            outcome = action.run()
        except DeployError:
            raise
        except Exception as error:  # a refused API call: stop here; what ran before is additive
            switched = [a.name for a, _ in done if a.switches]
            kept = ("the previous deployment is untouched" if not switched
                    else "already switched: " + ", ".join(switched))
            raise DeployError(f"{action.kind} {action.name} failed: {error}; {kept}") from error
        progress(f"[{number}/{len(plan.actions)}] {action.kind} {action.name}: {outcome}")
        done.append((action, outcome))
    return done


class LazyClient:
    """An API client (boto3, kubernetes) made on first use, so a dry run builds its plan without
    credentials, a region or a cluster."""

    def __init__(self, make) -> None:
        self._make = make

    def __getattr__(self, name: str):
        return getattr(self._make(), name)


ARGO_GROUP, ARGO_VERSION = "argoproj.io", "v1alpha1"      # Argo Workflows' and Argo Events' CRDs


def put_custom_object(custom, namespace: str, plural: str, body: dict[str, Any],
                      compared: tuple[str, ...] = ("labels",)) -> str:
    """Create or replace an argoproj.io custom object (a kubernetes CustomObjectsApi): "created",
    "unchanged" (same spec and `compared` metadata) or "replaced". A custom resource is replaced
    only at the version read (422 without one, 409 if stale)."""
    import json

    from kubernetes.client.exceptions import ApiException

    name = body["metadata"]["name"]
    body = json.loads(json.dumps(body))
    body["metadata"]["namespace"] = namespace
    try:
        current = custom.get_namespaced_custom_object(ARGO_GROUP, ARGO_VERSION, namespace, plural, name)
    except ApiException as error:
        if error.status != 404:
            raise
        custom.create_namespaced_custom_object(ARGO_GROUP, ARGO_VERSION, namespace, plural, body)
        return "created"
    meta = current.get("metadata", {})
    if current.get("spec") == body.get("spec") and \
            all(meta.get(key) == body["metadata"].get(key) for key in compared):
        return "unchanged"
    body["metadata"]["resourceVersion"] = meta.get("resourceVersion")
    custom.replace_namespaced_custom_object(ARGO_GROUP, ARGO_VERSION, namespace, plural, name, body)
    return "replaced"

