"""The target-neutral plan: what every target (Argo, Step Functions, the local runner) compiles from.

lower.py builds it from a clean FlowGraph plus settings. Everything a target needs is resolved here
(compute per step with its image, queue and roles, retries, timeouts and their backstops, env,
parameter default text, the workflow's name parts), so targets only translate, never decide.
What stays with a target: its own spelling (name rules, quantities) and what it does when a value
is absent that it needs (e.g. no Batch queue anywhere: a warning and a placeholder queue).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.frontend.model import ParameterDecl, Span
from compiler.settings import DEFAULT_IMAGE, Settings

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
    image: str = DEFAULT_IMAGE               # the step's own image, else the settings' image
    # Kubernetes
    namespace: str | None = None             # the step's own, else the settings' (None: neither)
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
    queue: str | None = None                 # own @batch(queue=), else the settings' (None: neither)
    iam_role: str | None = None              # own @batch(iam_role=), else settings.batch_job_role_arn
    execution_role: str | None = None        # own, else settings.batch_execution_role_arn
    use_tmpfs: bool = False
    tmpfs_size: int | None = None
    tmpfs_path: str = "/metaflow_temp"
    max_swap: int | None = None
    swappiness: int | None = None
    privileged: bool = False
    # Kubernetes, continued
    image_pull_secrets: tuple[str, ...] = ()  # imagePullSecrets of the pod
    qos: str | None = None                   # "guaranteed": limits = requests; "burstable" / None: requests
    extended_resources: tuple[tuple[str, str], ...] = ()   # e.g. vpc.amazonaws.com/efa: requests and limits
    security_context: tuple[tuple[str, Any], ...] = ()     # the container's securityContext (camelCase keys)
    # AWS Batch, continued
    inferentia: int = 0                      # /dev/neuronN devices (trainium is an alias)
    efa: int = 0                             # /dev/infiniband/uverbsN devices
    host_volumes: tuple[tuple[str, str], ...] = ()   # (host path, container path)
    efs_volumes: tuple[tuple[str, str], ...] = ()    # (file system id, container path)
    batch_tags: tuple[tuple[str, str], ...] = ()     # @batch(aws_batch_tags=): definition and job tags
    ephemeral_storage: int | None = None     # GiB, Fargate only (the definition becomes FARGATE)
    log_driver: str | None = None
    log_options: tuple[tuple[str, str], ...] = ()

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
    timeout_seconds: int | None = None       # @timeout: the runtime enforces it (so @catch can catch it)
    backstop_timeout_seconds: int | None = None   # the platform's deadline behind it (Batch attempt, state)
    pod_deadline_seconds: int | None = None       # a pod's or Job's deadline: the backstop plus the image pull
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
    # (decorator, its argument names) as written or attached by --with: targets look up their
    # fate in compiler.decorators.FATES
    decorators: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # @pypi/@conda packages (name, version), the step's over the flow's @pypi_base/@conda_base;
    # installed at task start only when the task's environment opts in (FLOWC_INSTALL_PACKAGES=1)
    packages: tuple[tuple[str, str], ...] = ()

    @property
    def is_foreach(self) -> bool:
        return self.kind in ("foreach", "parallel")

    @property
    def closes_foreach(self) -> bool:
        return self.join_kind == "foreach"


@dataclass
class ParameterPlan(ParameterDecl):
    """A parameter as declared, plus its default as the text a user would pass on a command line."""

    default_text: str | None = None          # None: no default, or a default of None


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
    parameters: list[ParameterPlan]
    project: str | None = None               # @project(name=...)
    project_branch: str | None = None        # resolved: settings branch/production, else user.<name>
    name_parts: tuple[str, ...] = ()         # (project, branch, flow) under @project, else (flow,)
    image: str = DEFAULT_IMAGE               # the image of steps without their own
    schedule: Schedule | None = None
    triggers: list[dict[str, Any]] = field(default_factory=list)
    local_modules: list[str] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)
    description: str | None = None
    configs: list[ParameterPlan] = field(default_factory=list)   # Configs: values fixed at compile time
    env_reads: list[str] = field(default_factory=list)           # variables read with resolve_env
    flow_decorators: tuple[tuple[str, tuple[str, ...]], ...] = ()   # as StepPlan.decorators
    # @exit_hook: (event, function) in declaration order; event "success" or "error". A function
    # is a name defined in the flow file or a dotted path `module.function`.
    exit_hooks: tuple[tuple[str, str], ...] = ()

    def step(self, name: str) -> StepPlan:
        return self.steps[name]

    @property
    def qualified_name(self) -> str:
        """The workflow's neutral name, `project.branch.Flow` or `Flow`; each target spells it its way."""
        return ".".join(self.name_parts) if self.name_parts else self.flow_name
