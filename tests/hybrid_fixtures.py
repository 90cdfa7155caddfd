"""Fixtures for the hybrid-run tests (tests/test_hybrid_*.py).

AWS: tests/stepfunctions/moto_sfn.py's MotoSfn (a moto server on 127.0.0.1 whose Batch jobs run
their real container command as local processes), with tests/doubles/moto_batch_logs.py so the jobs
also log to CloudWatch. Queues are MANAGED compute environments with real instance types (moto's
ec2.describe_instance_types), so preflight has capacity to check.
Kubernetes: tests/k8s_double.py with `run_jobs` (Jobs run locally) and a node list.
"""
from __future__ import annotations

import uuid

import pytest

from tests.k8s_double import KubeDouble, node

FLOWS = __import__("os").path.join(__import__("os").path.dirname(__file__), "flows", "shared", "valid")


@pytest.fixture(scope="session")
def aws():
    from tests.stepfunctions.moto_sfn import MotoSfn

    double = MotoSfn()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def aws_env(aws, monkeypatch):
    """Point this process (and the local tasks it starts) at the moto server; a fresh bucket."""
    from moto.batch import models

    from tests.doubles import moto_batch_logs

    previous = moto_batch_logs.install()
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws.endpoint}.items():
        monkeypatch.setenv(key, value)
    for key in ("FLOWC_DATASTORE", "FLOWC_BATCH_QUEUE", "FLOWC_K8S_NAMESPACE", "FLOWC_S3_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    bucket = "flowc-hybrid-%s" % uuid.uuid4().hex[:10]
    aws.ensure_bucket(bucket)
    try:
        yield "s3://%s/root" % bucket
    finally:
        models.Job.run = previous


_network: dict = {}


def managed_queue(aws, name: str, instance_types: list[str], kind: str = "EC2") -> str:
    """A job queue over one MANAGED compute environment of these instance types (or Fargate)."""
    batch = aws.client("batch")
    if batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
        return name
    if not _network:
        ec2, iam = aws.client("ec2"), aws.client("iam")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        _network["subnet"] = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
        _network["sg"] = ec2.create_security_group(GroupName="flowc-hybrid", Description="t",
                                                   VpcId=vpc)["GroupId"]
        role = iam.create_role(RoleName="flowc-hybrid-ce", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        profile = iam.create_instance_profile(InstanceProfileName="flowc-hybrid-ce")["InstanceProfile"]["Arn"]
        _network["role"], _network["profile"] = role, profile
    resources = {"type": kind, "maxvCpus": 256, "subnets": [_network["subnet"]],
                 "securityGroupIds": [_network["sg"]]}
    if kind in ("EC2", "SPOT"):
        resources.update(minvCpus=0, instanceTypes=instance_types, instanceRole=_network["profile"])
    env = batch.create_compute_environment(computeEnvironmentName="ce-" + name, type="MANAGED",
                                           state="ENABLED", serviceRole=_network["role"],
                                           computeResources=resources)["computeEnvironmentArn"]
    batch.create_job_queue(jobQueueName=name, state="ENABLED", priority=1,
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}])
    return name


@pytest.fixture
def kube(tmp_path, monkeypatch):
    double = KubeDouble().start()
    double.run_jobs = True
    double.nodes = [node("worker-1", "4", "16Gi"), node("worker-2", "8", "32Gi")]
    monkeypatch.setenv("KUBECONFIG", double.write_kubeconfig(str(tmp_path / "kubeconfig")))
    try:
        yield double
    finally:
        double.stop()


def api_client(kube):
    from kubernetes import client

    config = client.Configuration()
    config.host = kube.url
    return client.ApiClient(config)


__all__ = ["aws", "aws_env", "kube", "managed_queue", "api_client", "node", "FLOWS"]
