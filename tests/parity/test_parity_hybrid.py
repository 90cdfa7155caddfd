"""Parity for the seed's hybrid flow (hybrid_cloud.py): a local step that reads data files beside
the flow, a @kubernetes foreach body, @batch steps on two queues. It runs three ways, each task in
a fresh empty directory with only the code package:

- `flowc run`: @batch steps as moto Batch jobs, @kubernetes steps as Jobs of the Kubernetes double,
  the rest as local processes;
- the Argo executor: @kubernetes steps as pods, @batch steps through `runtime_shim batch-submit`
  pods that submit moto Batch jobs;
- Step Functions on moto: Batch jobs, and `eks:runJob.sync` Jobs on the Kubernetes double that
  `aws-sdk:eks:describeCluster` finds (tests/doubles/eks_runjob.py).

The flow draws `score` with random.randint in `train`, and `best` follows from the scores: those two
are compared by type only; every other artifact of every task must be identical.
"""
from __future__ import annotations

import io
import os
import uuid

from tests.doubles import eks_runjob
from tests.hybrid_fixtures import FLOWS, kube, managed_queue  # noqa: F401  (fixtures)
from tests.parity import engines as E
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

FLOW = os.path.join(FLOWS, "hybrid_cloud.py")
RANDOM = {"score", "best"}
CLUSTER = "flowc-parity-eks"


def _masked(snapshot: dict) -> dict:
    for tasks in snapshot.values():
        for task in tasks.values():
            for name in RANDOM & set(task["artifacts"]):
                task["artifacts"][name] = type(task["artifacts"][name]).__name__
    return snapshot


def _aws_env(sfn_moto, monkeypatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": sfn_moto.endpoint}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for key in ("FLOWC_DATASTORE", "FLOWC_BATCH_QUEUE", "FLOWC_K8S_NAMESPACE", "FLOWC_S3_ENDPOINT",
                "AWS_ENDPOINT_URL_S3", "FLOWC_EKS_CLUSTER"):
        monkeypatch.delenv(key, raising=False)


def _pods_of(kube, run_id: str) -> list[dict]:
    return [{"argv": r["argv"], "env": r["env"]} for r in kube.ran if run_id in r["argv"]]


def run_local(sfn_moto, kube, datastore: str, tmp_path, monkeypatch) -> tuple[str, list[dict]]:
    from compiler.runner import local
    from compiler.runner.hybrid import run_hybrid

    sandbox = E._SandboxedPopen(str(tmp_path / "local-tasks"))
    monkeypatch.setattr(local, "subprocess", E.types.SimpleNamespace(
        Popen=sandbox.Popen, PIPE=E.subprocess.PIPE, STDOUT=E.subprocess.STDOUT,
        DEVNULL=E.subprocess.DEVNULL, run=E.subprocess.run))
    run_id = "local-" + uuid.uuid4().hex[:8]
    stream = io.StringIO()
    code = run_hybrid(FLOW, datastore=datastore, run_id=run_id, setting_flags={"k8s_namespace": "flowc"},
                      stream=stream, tty=False)
    assert code == 0, stream.getvalue()
    return run_id, sandbox.tasks + _pods_of(kube, run_id)


def run_argo(sfn_moto, datastore: str, tmp_path) -> tuple[str, list[dict]]:
    from tests.argo_executor.executor import SUCCEEDED, Executor
    from tests.argo_executor.harness import compile_docs

    docs = compile_docs(FLOW, datastore, s3_endpoint=sfn_moto.endpoint, aws_region="us-east-1")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "FLOWC_BATCH_POLL_SECONDS": "0.2"}
    lines: list[str] = []
    ex = Executor(docs, {}, workdir=str(tmp_path / "argo"), extra_env=env, log=lines.append)
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-60:])
    return ex.run_id, ex.pods


def run_sfn(sfn_moto, kube, datastore: str) -> tuple[str, list[dict]]:
    from compiler.pipeline import compile_file
    from tests.stepfunctions import helpers as h
    from tests.stepfunctions.moto_sfn import JOBS

    eks_runjob.install()
    eks_runjob.register_cluster(sfn_moto, CLUSTER, kube.url)
    settings = h.make_settings(datastore=datastore, s3_endpoint=sfn_moto.s3_verifier.endpoint,
                               batch_queue="flowc-queue", eks_cluster=CLUSTER, k8s_namespace="flowc",
                               batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(FLOW, "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="parity-hybrid-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    before = len(JOBS.jobs)
    desc = sfn_moto.run(arn, run_id, {}, timeout=240)
    jobs = [j for j in JOBS.jobs[before:] if run_id in j.get("argv", [])]
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), str(desc.get("cause"))[:2000],
                                           [(j["name"], j.get("stderr", "")[-1500:]) for j in jobs if j.get("exit_code")])
    return run_id, [{"argv": j["argv"]} for j in jobs] + _pods_of(kube, run_id)


def test_hybrid_cloud_has_the_same_artifacts_on_every_engine(sfn_moto, kube, tmp_path, monkeypatch):  # noqa: F811
    _aws_env(sfn_moto, monkeypatch)
    managed_queue(sfn_moto, "gpu-queue", ["g4dn.12xlarge"])
    managed_queue(sfn_moto, "cpu-queue", ["m5.2xlarge"])
    bucket = "flowc-hybrid-parity-" + uuid.uuid4().hex[:8]
    sfn_moto.ensure_bucket(bucket)
    kube.extra_env.update({"AWS_ENDPOINT_URL_S3": sfn_moto.s3_verifier.endpoint, "AWS_ENDPOINT_URL": sfn_moto.endpoint})
    flow_dir = os.path.dirname(FLOW)
    ran_before = len(kube.ran)

    local_id, local_tasks = run_local(sfn_moto, kube, f"s3://{bucket}/local", tmp_path, monkeypatch)
    E.assert_isolated(local_tasks, flow_dir, "flowc run")
    argo_id, argo_pods = run_argo(sfn_moto, f"s3://{bucket}/argo", tmp_path)
    E.assert_isolated(argo_pods, flow_dir, "argo")
    sfn_id, sfn_tasks = run_sfn(sfn_moto, kube, f"s3://{bucket}/sfn")
    E.assert_isolated(sfn_tasks, flow_dir, "stepfunctions")

    name = "HybridCloudFlow"
    local = _masked(E.snapshot(name, local_id, f"s3://{bucket}/local"))
    argo = _masked(E.snapshot(name, argo_id, f"s3://{bucket}/argo"))
    sfn = _masked(E.snapshot(name, sfn_id, f"s3://{bucket}/sfn"))
    problems = E.diff(local, argo, ("run", "argo")) + E.diff(local, sfn, ("run", "sfn"))
    assert not problems, "\n".join(problems[:40])
    # the data files beside the flow travelled in the package, on every engine
    assert local["start"]["t"]["artifacts"]["shards"] == sfn["start"]["t"]["artifacts"]["shards"]
    shards = dict(local["start"]["t"]["artifacts"]["shards"]["dict"])
    assert sorted(shards) == ["BR", "IT", "US"] and all(v for v in shards.values())
    assert local["end"]["t"]["artifacts"]["best"] == "str"
    # prepare_data ran as Kubernetes Jobs under flowc run and on Step Functions (EKS): 3 + 3
    eks_jobs = [r for r in kube.ran[ran_before:] if "prepare_data" in r["argv"]]
    assert len(eks_jobs) == 6 and all(r["exit_code"] == 0 for r in eks_jobs)
    sfn_pods = [r for r in eks_jobs if sfn_id in r["argv"]]
    assert len(sfn_pods) == 3 and all(r["namespace"] == "flowc" for r in sfn_pods)
