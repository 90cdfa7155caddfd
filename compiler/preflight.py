"""Preflight: refuse, before a run starts, a step whose request no machine it could run on can meet.

A Batch job asking for more vCPU, memory or GPU than any instance type of its queue's compute
environments would sit in RUNNABLE forever; a pod asking for more than any node can allocate
would sit in Pending. `flowc run` calls `preflight()` before any task starts; `flowc deploy` can
call it too (`default_backend` names where steps without @batch/@kubernetes run on the target).

Batch capacity: the queue's ENABLED compute environments. EC2/SPOT: instanceTypes resolved with
ec2.describe_instance_types (a family like `c5` -> every `c5.*`; `optimal` -> the c4/m4/r4
families, else c5/m5/r5), vCPU also capped by maxvCpus. FARGATE: 16 vCPU, 120 GiB, no GPU.
UNMANAGED environments have no declared capacity and are not checked. Kubernetes capacity: the
allocatable cpu/memory/GPU of the nodes matching the step's node selector.
Memory is compared in MiB against the instance's (node's) total; Batch reserves a little for its
agent, so a request within ~5% of the top may still wait.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from compiler.ir import FlowPlan, StepPlan

FARGATE = {"vcpu": 16.0, "memory": 122880, "gpu": 0}
OPTIMAL_FAMILIES = (("c4", "m4", "r4"), ("c5", "m5", "r5"))


@dataclass
class Capacity:
    """One kind of machine a step could land on."""

    name: str
    vcpu: float
    memory: int          # MiB
    gpu: int

    def fits(self, step: StepPlan) -> bool:
        c = step.compute
        return c.cpu <= self.vcpu and c.memory <= self.memory and c.gpu <= self.gpu


@dataclass
class PreflightResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class PreflightError(Exception):
    def __init__(self, result: PreflightResult):
        self.result = result
        super().__init__("\n".join(result.errors))


def _num(v: float) -> str:
    return str(int(v)) if float(v) == int(v) else "%g" % v


def asks(step: StepPlan) -> str:
    c = step.compute
    return "%s vCPU, %d MiB memory%s" % (_num(c.cpu), c.memory, ", %d GPU" % c.gpu if c.gpu else "")


def _largest(caps: list[Capacity]) -> str:
    top = max(caps, key=lambda c: (c.memory, c.vcpu, c.gpu))
    return ("%s vCPU, %d MiB memory, %d GPU (largest: %s; most vCPU %s, most memory %d MiB, "
            "most GPU %d)" % (_num(top.vcpu), top.memory, top.gpu, top.name,
                              _num(max(c.vcpu for c in caps)), max(c.memory for c in caps),
                              max(c.gpu for c in caps)))


def _refusal(step: StepPlan, where: str, caps: list[Capacity]) -> str:
    return ("step %s asks for %s, more than any machine of %s can give: %s"
            % (step.name, asks(step), where, _largest(caps)))


# --- AWS Batch ----------------------------------------------------------------------------------

def _instance_types(ec2, names: Iterable[str]) -> list[dict[str, Any]]:
    names = list(names)
    exact = [n for n in names if "." in n]
    families = [n for n in names if "." not in n and n not in ("optimal", "default_x86_64", "default_arm64")]
    out: list[dict[str, Any]] = []
    if exact:
        out += ec2.describe_instance_types(InstanceTypes=exact).get("InstanceTypes", [])
    patterns = ["%s.*" % f for f in families]
    if any(n in ("optimal", "default_x86_64") for n in names):
        for group in OPTIMAL_FAMILIES:
            found = _by_filter(ec2, ["%s.*" % f for f in group])
            if found:
                out += found
                break
    if patterns:
        out += _by_filter(ec2, patterns)
    return out


def _by_filter(ec2, patterns: list[str]) -> list[dict[str, Any]]:
    paginator = ec2.get_paginator("describe_instance_types")
    pages = paginator.paginate(Filters=[{"Name": "instance-type", "Values": patterns}])
    return [t for page in pages for t in page.get("InstanceTypes", [])]


def _capacity_of(instance: dict[str, Any], max_vcpus: float | None) -> Capacity:
    vcpu = float(instance.get("VCpuInfo", {}).get("DefaultVCpus", 0))
    if max_vcpus:
        vcpu = min(vcpu, float(max_vcpus))
    gpus = sum(int(g.get("Count", 0)) for g in (instance.get("GpuInfo") or {}).get("Gpus", []))
    return Capacity(instance["InstanceType"], vcpu, int(instance.get("MemoryInfo", {}).get("SizeInMiB", 0)), gpus)


def batch_queue_capacity(queue: str, batch, ec2) -> tuple[list[Capacity] | None, str | None]:
    """(capacities, problem). capacities None: not checkable (e.g. only UNMANAGED environments)."""
    queues = batch.describe_job_queues(jobQueues=[queue]).get("jobQueues", [])
    if not queues:
        return [], "the Batch job queue %s does not exist" % queue
    order = queues[0].get("computeEnvironmentOrder", [])
    arns = [o["computeEnvironment"] for o in order]
    envs = batch.describe_compute_environments(computeEnvironments=arns).get("computeEnvironments", []) if arns else []
    caps: list[Capacity] = []
    unchecked = False
    for env in envs:
        if env.get("state", "ENABLED") != "ENABLED":
            continue
        resources = env.get("computeResources") or {}
        kind = resources.get("type")
        if env.get("type") == "UNMANAGED" or not kind:
            unchecked = True
            continue
        if kind in ("FARGATE", "FARGATE_SPOT"):
            vcpu = min(FARGATE["vcpu"], float(resources.get("maxvCpus") or FARGATE["vcpu"]))
            caps.append(Capacity("Fargate (%s)" % env.get("computeEnvironmentName"), vcpu,
                                 int(FARGATE["memory"]), 0))
            continue
        for instance in _instance_types(ec2, resources.get("instanceTypes") or ["optimal"]):
            caps.append(_capacity_of(instance, resources.get("maxvCpus")))
    if not caps:
        if unchecked:
            return None, None
        return [], "the Batch job queue %s has no ENABLED compute environment" % queue
    return caps, None


def check_batch(steps: list[StepPlan], settings: Any, *, session=None) -> PreflightResult:
    result = PreflightResult()
    if not steps:
        return result
    if session is None:
        from compiler.compute import aws

        session = aws.session(settings)
    batch, ec2 = session.client("batch"), session.client("ec2")
    by_queue: dict[str, list[StepPlan]] = {}
    for step in steps:
        queue = step.compute.queue or getattr(settings, "batch_queue", None)
        if not queue:
            result.errors.append("step %s runs on AWS Batch but no job queue is set: use "
                                 "@batch(queue=...), --batch-queue or FLOWC_BATCH_QUEUE" % step.name)
            continue
        by_queue.setdefault(str(queue), []).append(step)
    for queue, queued in by_queue.items():
        try:
            caps, problem = batch_queue_capacity(queue, batch, ec2)
        except Exception as error:  # noqa: BLE001 - no permission to look: say so, do not block
            result.warnings.append("cannot check the capacity of Batch queue %s: %s" % (queue, error))
            continue
        if problem:
            result.errors.append("%s (steps %s)" % (problem, ", ".join(s.name for s in queued)))
            continue
        if caps is None:
            result.warnings.append("Batch queue %s has only unmanaged compute environments: "
                                   "capacity not checked" % queue)
            continue
        for step in queued:
            if not any(c.fits(step) for c in caps):
                result.errors.append(_refusal(step, "Batch queue %s" % queue, caps))
    return result


# --- Kubernetes ---------------------------------------------------------------------------------

def node_capacities(nodes: list[dict[str, Any]], step: StepPlan) -> list[Capacity]:
    from kubernetes.utils import parse_quantity

    from compiler.compute.kubernetes import gpu_resource

    gpu_key = gpu_resource(step.compute)
    selector = step.compute.node_selector_dict()
    caps = []
    for node in nodes:
        meta = node.get("metadata") or {}
        labels = meta.get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        alloc = (node.get("status") or {}).get("allocatable") or {}
        caps.append(Capacity(
            "node %s" % meta.get("name"),
            float(parse_quantity(alloc.get("cpu", "0"))),
            int(parse_quantity(alloc.get("memory", "0")) / (1 << 20)),
            int(parse_quantity(alloc.get(gpu_key, "0")))))
    return caps


def check_kubernetes(steps: list[StepPlan], settings: Any, *, api_client=None) -> PreflightResult:
    import json

    result = PreflightResult()
    if not steps:
        return result
    try:
        from kubernetes import client

        if api_client is None:
            from compiler.compute.kubernetes import load_api_client

            api_client = load_api_client(settings)
        response = client.CoreV1Api(api_client).list_node(_preload_content=False)
        nodes = json.loads(response.data).get("items", [])  # type: ignore[attr-defined]  # raw urllib3 response
    except Exception as error:  # noqa: BLE001 - e.g. 403 on nodes: say so, do not block
        result.warnings.append("cannot list the Kubernetes nodes to check capacity: %s"
                               % (getattr(error, "reason", None) or error))
        return result
    for step in steps:
        caps = node_capacities(nodes, step)
        where = "the Kubernetes cluster"
        if step.compute.node_selector:
            where += " matching node selector %s" % ",".join("%s=%s" % kv for kv in step.compute.node_selector)
        if not caps:
            result.errors.append("step %s asks for %s, but no schedulable node of %s exists"
                                 % (step.name, asks(step), where))
        elif not any(c.fits(step) for c in caps):
            result.errors.append(_refusal(step, where, caps))
    return result


# --- both ---------------------------------------------------------------------------------------

def steps_by_backend(plan: FlowPlan, default_backend: str | None = None) -> dict[str, list[StepPlan]]:
    out: dict[str, list[StepPlan]] = {}
    for step in plan.steps.values():
        backend = step.compute.backend or default_backend
        if backend:
            out.setdefault(backend, []).append(step)
    return out


def preflight(plan: FlowPlan, settings: Any, *, default_backend: str | None = None, session=None,
              api_client=None) -> PreflightResult:
    """Check every remote step of the plan; `result.errors` names each step that cannot run."""
    groups = steps_by_backend(plan, default_backend)
    result = PreflightResult()
    for part in (check_batch(groups.get("batch", []), settings, session=session),
                 check_kubernetes(groups.get("kubernetes", []), settings, api_client=api_client)):
        result.errors += part.errors
        result.warnings += part.warnings
    return result
