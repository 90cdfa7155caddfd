"""Preflight: a step no machine of its queue / cluster can hold is refused before the run, with
the step, what it asks for and the largest available."""
from __future__ import annotations

import os

from click.testing import CliRunner

from compiler.cli import main as cli
from compiler.preflight import check_batch, check_kubernetes, preflight
from compiler.runtime_spec import plan_for_file
from compiler.settings import resolve
from tests.hybrid_fixtures import FLOWS, api_client, aws, aws_env, kube, managed_queue, node  # noqa: F401
from tests.stepfunctions import moto_sfn


def _plan(name="big_sum_batch.py", with_options=()):
    plan, diagnostics = plan_for_file(os.path.join(FLOWS, name), None, None, tuple(with_options))
    assert plan is not None, diagnostics
    return plan


def _settings(**values):
    return resolve(values, environ={})


def test_batch_60000_mib_refused_on_32_gib_instances(aws, aws_env):
    queue = managed_queue(aws, "pf-32g", ["m5.2xlarge"])
    result = preflight(_plan(), _settings(batch_queue=queue))
    assert not result.ok
    (error,) = result.errors
    assert "step start" in error and "60000 MiB" in error and "32768 MiB" in error
    assert "m5.2xlarge" in error and queue in error


def test_batch_60000_mib_passes_on_64_gib_instances(aws, aws_env):
    queue = managed_queue(aws, "pf-64g", ["m5.4xlarge"])
    assert preflight(_plan(), _settings(batch_queue=queue)).errors == []


def test_batch_families_optimal_and_fargate(aws, aws_env):
    plan = _plan()
    assert preflight(plan, _settings(batch_queue=managed_queue(aws, "pf-fam", ["r5"]))).ok
    assert preflight(plan, _settings(batch_queue=managed_queue(aws, "pf-opt", ["optimal"]))).ok
    fargate = preflight(plan, _settings(batch_queue=managed_queue(aws, "pf-fg", [], kind="FARGATE")))
    assert fargate.ok        # 60000 MiB < Fargate's 120 GiB


def test_batch_gpu_request_refused_on_cpu_instances(aws, aws_env, tmp_path):
    managed_queue(aws, "pf-cpu-only", ["m5.large", "c5"])
    flow = tmp_path / "gpu.py"
    flow.write_text(open(os.path.join(FLOWS, "hybrid_cloud.py")).read()
                    .replace('queue="gpu-queue"', 'queue="pf-cpu-only"')
                    .replace('queue="cpu-queue"', 'queue="pf-cpu-only"'))
    plan, _ = plan_for_file(str(flow))
    result = check_batch([plan.steps["train"], plan.steps["join"]], _settings())
    (error,) = result.errors
    assert "step train asks for 1 vCPU, 4096 MiB memory, 2 GPU" in error
    assert "most GPU 0" in error and "pf-cpu-only" in error


def test_batch_unknown_queue_is_an_error(aws, aws_env):
    result = preflight(_plan(), _settings(batch_queue="no-such-queue"))
    assert any("no-such-queue does not exist" in e for e in result.errors)


def _on_k8s(step, **compute):
    from dataclasses import replace

    return replace(step, compute=replace(step.compute, backend="kubernetes", **compute))


def test_kubernetes_nodes(kube):
    plan = _plan("big_sum_batch.py", ("kubernetes",))
    assert [s.name for s in plan.steps.values() if s.compute.backend == "kubernetes"] == ["end"]
    big = _on_k8s(plan.steps["start"])       # memory=60000
    kube.nodes = [node("small", "8", "32Gi"), node("mid", "16", "48Gi")]
    result = check_kubernetes([big], _settings(), api_client=api_client(kube))
    (error,) = result.errors
    assert "step start" in error and "60000 MiB" in error and "49152 MiB" in error and "node mid" in error
    kube.nodes.append(node("big", "16", "64Gi"))
    assert check_kubernetes([big], _settings(), api_client=api_client(kube)).ok
    # the node selector narrows the candidates
    selected = _on_k8s(big, node_selector=(("pool", "gpu"),))
    result = check_kubernetes([selected], _settings(), api_client=api_client(kube))
    assert result.errors and "no schedulable node" in result.errors[0] and "pool=gpu" in result.errors[0]


def test_kubernetes_gpu_request(kube):
    step = _on_k8s(_plan("hybrid_cloud.py").steps["prepare_data"], gpu=2)
    kube.nodes = [node("cpu", "8", "32Gi"), node("gpu1", "8", "32Gi", gpu=1)]
    (error,) = check_kubernetes([step], _settings(), api_client=api_client(kube)).errors
    assert "step prepare_data asks for 1 vCPU, 4096 MiB memory, 2 GPU" in error and "most GPU 1" in error
    kube.nodes.append(node("gpu4", "32", "128Gi", gpu=4))
    assert check_kubernetes([step], _settings(), api_client=api_client(kube)).ok


def test_kubernetes_nodes_not_listable_is_a_warning(kube):
    kube.refuse = lambda method, path: 403 if path == "/api/v1/nodes" else None
    step = _on_k8s(_plan().steps["start"])
    result = check_kubernetes([step], _settings(), api_client=api_client(kube))
    assert result.ok and "cannot list the Kubernetes nodes" in result.warnings[0]


def test_flowc_run_refuses_before_anything_starts(aws, aws_env):
    queue = managed_queue(aws, "pf-32g", ["m5.2xlarge"])
    before = len(moto_sfn.JOBS.jobs)
    result = CliRunner().invoke(cli, ["run", os.path.join(FLOWS, "big_sum_batch.py"), "--datastore",
                                      aws_env, "--batch-queue", queue, "--run-id", "refused-1"])
    assert result.exit_code == 2, result.output
    assert "preflight" in result.output and "step start" in result.output
    assert "60000 MiB" in result.output and "32768 MiB" in result.output
    assert len(moto_sfn.JOBS.jobs) == before
    bucket = aws_env[len("s3://"):].split("/")[0]
    listed = aws.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
    assert listed == []       # not even the code package was uploaded


def test_flowc_run_refuses_pod_too_big_for_nodes(aws, aws_env, kube, tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text('''
from metaflow import FlowSpec, kubernetes, step


class K8sBig(FlowSpec):
    @kubernetes(cpu=64, memory=1000)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    result = CliRunner().invoke(cli, ["run", str(flow), "--datastore", aws_env,
                                      "--k8s-namespace", "flowc"])
    assert result.exit_code == 2, result.output
    assert "step start asks for 64 vCPU" in result.output and "most vCPU 8" in result.output
    assert kube.ran == []
