"""One unit rule (compiler.compute.units): the same @resources / @kubernetes / @batch values give
the same bytes and cores on an Argo pod, a Step Functions EKS job, a `flowc run` Kubernetes Job and
an AWS Batch job (MEMORY and linuxParameters in MiB), whichever builder made them."""
from __future__ import annotations

import json

import pytest

from compiler.compute import units

FLOW = '''from metaflow import FlowSpec, step, resources


class QuantityFlow(FlowSpec):
    @resources(cpu={cpu}, memory={memory}, disk={disk}, gpu=1)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
MIB = 1 << 20


def _compile(tmp_path, values, backend, target):
    from compiler.pipeline import compile_file
    from compiler.settings import resolve

    flow = tmp_path / "quantity.py"
    flow.write_text(FLOW.format(**values))
    settings = resolve({"datastore": "s3://bucket/root", "eks_cluster": "eks", "batch_queue": "q"},
                       flow_dir=str(tmp_path), environ={})
    result = compile_file(str(flow), target, settings=settings,
                          with_options=(f"{backend}:shared_memory={values['shm']}",))
    assert result.ok, result.diagnostics
    return result


def _k8s_bytes(quantity: str) -> int:
    from kubernetes.utils import parse_quantity

    return int(parse_quantity(quantity))


def _k8s_cores(quantity: str) -> float:
    from kubernetes.utils import parse_quantity

    return float(parse_quantity(quantity))


def _argo_pod(result):
    docs = [d for f in result.files for d in f.documents]
    wt = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    defaults = wt["spec"]["templateDefaults"]["container"]["resources"]["requests"]
    template = next(t for t in wt["spec"]["templates"] if t["name"] == "start")
    requests = {**defaults, **template["container"]["resources"].get("requests", {})}
    shm = next(v["emptyDir"]["sizeLimit"] for v in template["volumes"] if v["name"] == "dshm")
    return requests, template["container"]["resources"]["limits"], shm


def _eks_job(result):
    definition = json.loads(next(f.content for f in result.files if f.name.endswith(".asl.json")))
    job = definition["States"]["start"]["Parameters"]["Job"]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    shm = next(v["emptyDir"]["sizeLimit"] for v in pod["volumes"] if v["name"] == "dshm")
    return container["resources"]["requests"], container["resources"]["limits"], shm


def _runner_job(tmp_path, values):
    from compiler.runner.backends import RemoteTask
    from compiler.runner.backends.kubernetes import KubernetesBackend
    from compiler.runtime_spec import plan_for_file
    from compiler.settings import resolve

    flow = tmp_path / "quantity.py"
    settings = resolve({"datastore": "s3://bucket/root", "k8s_namespace": "ns"}, environ={})
    plan, _ = plan_for_file(str(flow), None, settings, (f"kubernetes:shared_memory={values['shm']}",))
    backend = KubernetesBackend(settings, "QuantityFlow", "abc", "s3://bucket/root/x.zip", api_client=object())
    job = backend.job_manifest(RemoteTask("QuantityFlow", "r", plan.steps["start"], "t", 0, ["task"]))
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    shm = next(v["emptyDir"]["sizeLimit"] for v in pod["volumes"] if v["name"] == "dshm")
    return container["resources"]["requests"], container["resources"]["limits"], shm


def _batch_sfn(result):
    files = {f.name: f for f in result.files}
    definition = json.loads(next(f.content for n, f in files.items() if n.endswith(".asl.json")))
    overrides = definition["States"]["start"]["Parameters"]["ContainerOverrides"]
    reqs = {r["Type"]: r["Value"] for r in overrides["ResourceRequirements"]}
    jobdef = next(f.documents[0] for n, f in files.items() if n.endswith(".jobdef.json"))
    return reqs, jobdef["containerProperties"]["linuxParameters"]["sharedMemorySize"]


def _batch_argo(result):
    docs = [d for f in result.files for d in f.documents]
    wt = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    args = next(t for t in wt["spec"]["templates"] if t["name"] == "start")["container"]["args"]
    reqs = {r["type"]: r["value"] for r in json.loads(args[args.index("--resources") + 1])}
    jobdef = json.loads(args[args.index("--job-definition") + 1])
    return reqs, jobdef["containerProperties"]["linuxParameters"]["sharedMemorySize"]


@pytest.mark.parametrize("values", [
    {"cpu": 2.5, "memory": 16000, "disk": 20480, "shm": 1024},
    {"cpu": 8, "memory": 4097, "disk": 30000, "shm": 333},
])
def test_same_values_same_quantities_on_every_engine(tmp_path, values):
    pods = {"argo": _argo_pod(_compile(tmp_path, values, "kubernetes", "argo")),
            "eks": _eks_job(_compile(tmp_path, values, "kubernetes", "stepfunctions")),
            "flowc run": _runner_job(tmp_path, values)}
    batch = {"stepfunctions": _batch_sfn(_compile(tmp_path, values, "batch", "stepfunctions")),
             "argo batch-submit": _batch_argo(_compile(tmp_path, values, "batch", "argo"))}
    memory, disk, shm = values["memory"] * MIB, values["disk"] * MIB, values["shm"] * MIB
    for where, (requests, limits, pod_shm) in pods.items():
        assert _k8s_bytes(requests["memory"]) == memory, where
        assert _k8s_bytes(requests["ephemeral-storage"]) == disk, where
        assert _k8s_cores(requests["cpu"]) == values["cpu"], where
        assert limits["nvidia.com/gpu"] == "1", where
        assert _k8s_bytes(pod_shm) == shm, where
        if "memory" in limits:                        # EKS: limits = requests
            assert _k8s_bytes(limits["memory"]) == memory, where
    for where, (reqs, definition_shm) in batch.items():
        assert int(reqs["MEMORY"]) * MIB == memory, where
        assert float(reqs["VCPU"]) == values["cpu"] and reqs["GPU"] == "1", where
        assert definition_shm * MIB == shm, where


def test_unit_rule():
    assert units.size(16000, units.KUBERNETES) == "16000Mi"
    assert units.size(16000, units.BATCH) == "16000"
    assert units.cpu(0.5, units.KUBERNETES) == "500m" and units.cpu(0.5, units.BATCH) == "0.5"
    assert units.cpu(2.0, units.KUBERNETES) == "2" == units.cpu(2, units.BATCH)
    with pytest.raises(ValueError):
        units.size(1, "fargate")
