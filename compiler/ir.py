"""The target-neutral plan: what every target (Argo, Step Functions, the local runner) compiles from.

lower.py builds it from a clean FlowGraph plus settings. Everything a target needs is resolved here
(compute per step, retries, timeouts, env), so targets only translate, never decide.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.frontend.model import ParameterDecl, Span

DEFAULT_CPU = 1.0
DEFAULT_MEMORY_MB = 4096
DEFAULT_DISK_MB = 10240


@dataclass(frozen=True)
class Compute:
    """Resolved compute of one step. Memory, disk, shared memory and tmpfs are in MB."""

    backend: str | None                      # "kubernetes" | "batch" | None: the target's own default
    cpu: float = DEFAULT_CPU
    memory: int = DEFAULT_MEMORY_MB
    gpu: int = 0
    disk: int = DEFAULT_DISK_MB
    shared_memory: int | None = None
    image: str | None = None                 # None: the settings' image
    # Kubernetes
    namespace: str | None = None
    service_account: str | None = None
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[tuple[tuple[str, Any], ...], ...] = ()
    k8s_secrets: tuple[str, ...] = ()        # names of Kubernetes Secrets exposed as env (envFrom)
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    gpu_vendor: str = "nvidia"
    image_pull_policy: str | None = None
    persistent_volume_claims: tuple[tuple[str, str], ...] = ()
    # AWS Batch
    queue: str | None = None                 # None: the settings' job queue
    iam_role: str | None = None
    execution_role: str | None = None
    use_tmpfs: bool = False
    tmpfs_size: int | None = None
    tmpfs_path: str = "/metaflow_temp"
    max_swap: int | None = None
    swappiness: int | None = None
    privileged: bool = False

    def node_selector_dict(self) -> dict[str, str]:
        return dict(self.node_selector)

    def tolerations_list(self) -> list[dict[str, Any]]:
        return [dict(t) for t in self.tolerations]


@dataclass(frozen=True)
class Retry:
    times: int = 0                           # extra attempts after the first
    minutes_between: float = 2.0


@dataclass
class StepPlan:
    name: str
    kind: str                                # model.NODE_KINDS
    next: list[str]
    in_: list[str]
    depth: int                               # enclosing foreach scopes
    compute: Compute
    retry: Retry = field(default_factory=Retry)
    timeout_seconds: int | None = None
    catch: bool = False                      # @catch: a failure on the last attempt is caught
    catch_var: str | None = None
    catch_print: bool = True
    env: dict[str, str] = field(default_factory=dict)
    secret_sources: list[Any] = field(default_factory=list)   # @secrets(sources=...): ids, never values
    foreach_var: str | None = None
    num_parallel: int | None = None
    condition: str | None = None
    cases: dict[str, str] = field(default_factory=dict)
    recursive: bool = False
    join_of: str | None = None
    join_kind: str | None = None             # joins: "foreach" (closes a foreach/parallel) | "static"
    matching_join: str | None = None
    split_parents: list[str] = field(default_factory=list)
    span: Span | None = None

    @property
    def is_foreach(self) -> bool:
        return self.kind in ("foreach", "parallel")

    @property
    def closes_foreach(self) -> bool:
        return self.join_kind == "foreach"


@dataclass(frozen=True)
class Schedule:
    cron: str                                # five-field cron expression
    timezone: str | None = None


@dataclass
class FlowPlan:
    flow_name: str                           # the FlowSpec class name
    flow_file: str                           # the flow file's base name
    path: str                                # the flow file's path as given
    start: str
    end: str
    steps: dict[str, StepPlan]               # topological order
    parameters: list[ParameterDecl]
    project: str | None = None               # @project(name=...)
    project_branch: str | None = None
    schedule: Schedule | None = None
    triggers: list[dict[str, Any]] = field(default_factory=list)
    local_modules: list[str] = field(default_factory=list)
    settings: Any = None                     # settings.Settings
    description: str | None = None

    def step(self, name: str) -> StepPlan:
        return self.steps[name]
