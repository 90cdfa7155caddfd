"""Secrets never leak: a flow using @secrets and Kubernetes secrets compiles (both targets) and
deploys (Argo against tests/k8s_double.py, Step Functions against moto) to manifests holding
references only. Sentinel values for AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in the process
environment, a sentinel kubeconfig token and a sentinel secret value must not appear in the
compiled files, the stdout/stderr of `flowc compile` / `flowc deploy` (also with --show-config and
--dry-run), the code packages (unzipped and grepped) or anything the API doubles received."""
from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.k8s_double import KubeDouble, node
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
AWS_SECRET = "SENTINEL-aws-secret-7f3a9c"
AWS_TOKEN = "SENTINEL-aws-session-token-51be20"
KUBE_TOKEN = "SENTINEL-kube-token-c0ffee"
SECRET_VALUE = "SENTINEL-db-password-9d41"      # the secret's value lives only in the cluster/env
SENTINELS = (AWS_SECRET, AWS_TOKEN, KUBE_TOKEN, SECRET_VALUE)

FLOW = '''
from metaflow import FlowSpec, kubernetes, secrets, step, environment


class SecretFlow(FlowSpec):
    @secrets(sources=["db-credentials", "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key"])
    @kubernetes(secrets=["k8s-db-secret"], cpu=1)
    @step
    def start(self):
        import os
        self.seen = os.environ.get("DB_PASSWORD") is not None
        self.next(self.end)

    @environment(vars={"MODE": "prod"})
    @step
    def end(self):
        pass
'''


def _leaks(text: str | bytes, where: str) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [f"{s} in {where}" for s in SENTINELS if s in text]


def _zip_leaks(data: bytes, where: str) -> list[str]:
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.namelist(), where
        for name in z.namelist():
            out += _leaks(z.read(name), f"{where}:{name}")
    return out


@pytest.fixture
def env(tmp_path):
    flow = tmp_path / "secret_flow.py"
    flow.write_text(FLOW)
    # a sibling file with the secret value must not be the way it leaks either: the package takes
    # every small file beside the flow, so keep the secret out of the flow directory and in env only
    e = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY=AWS_SECRET,
             AWS_SESSION_TOKEN=AWS_TOKEN, AWS_DEFAULT_REGION="us-east-1", DB_PASSWORD=SECRET_VALUE,
             FLOWC_DATASTORE="s3://flowc-secrets/ds")
    return flow, e


def flowc(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], capture_output=True, env=env,
                          cwd=cwd, timeout=180)


@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
def test_compile_holds_references_only(tmp_path, env, target):
    flow, e = env
    out_dir = tmp_path / "out"
    extra = ["--batch-queue", "q", "--eks-cluster", "flowc-eks", "--sfn-role-arn", "arn:aws:iam::123456789012:role/sfn"] if target == "stepfunctions" else []
    leaks = []
    for args in (["compile", str(flow), "-t", target, "-o", str(out_dir), *extra],
                 ["compile", str(flow), "-t", target, "--show-config", *extra]):
        r = flowc(args, e, tmp_path)
        assert r.returncode == 0, r.stderr.decode()
        leaks += _leaks(r.stdout, " ".join(args[:4]) + " stdout") + _leaks(r.stderr, "stderr")
    packages = sorted(out_dir.glob("*.code.zip"))       # the bundle's code package file
    files = sorted(f for f in out_dir.iterdir() if f not in packages)
    assert files and len(packages) == 1
    leaks += _zip_leaks(packages[0].read_bytes(), packages[0].name)
    text = "\n".join(f.read_text() for f in files)
    for f in files:
        leaks += _leaks(f.read_bytes(), f.name)
    if target == "argo":
        import yaml

        docs = [d for f in files if f.suffix == ".yaml" for d in yaml.safe_load_all(f.read_text()) if d]
        for cm in [d for d in docs if d["kind"] == "ConfigMap"]:   # none with an s3:// datastore
            leaks += _zip_leaks(base64.b64decode(cm["binaryData"]["code.zip"]), "configmap zip")
        assert "k8s-db-secret" in text                        # the reference is there ...
        assert "secretRef" in text
    assert not leaks, leaks


def _kubeconfig(double, path):
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "double",
        "clusters": [{"name": "double", "cluster": {"server": double.url}}],
        "users": [{"name": "tester", "user": {"token": KUBE_TOKEN}}],
        "contexts": [{"name": "double", "context": {"cluster": "double", "user": "tester", "namespace": "ml"}}],
    }
    path.write_text(json.dumps(config))
    return str(path)


def test_argo_deploy_leaks_nothing(tmp_path, env):
    flow, e = env
    double = KubeDouble().start()
    double.nodes.append(node("n1", "8", "32Gi"))     # preflight runs (and must not leak either)
    try:
        e = dict(e, KUBECONFIG=_kubeconfig(double, tmp_path / "kubeconfig"), FLOWC_DATASTORE="file://" + str(tmp_path / "ds"))
        e.pop("AWS_ENDPOINT_URL", None)
        leaks = []
        for args in (["deploy", str(flow), "-t", "argo", "--dry-run"], ["deploy", str(flow), "-t", "argo"]):
            r = flowc(args, e, tmp_path)
            assert r.returncode == 0, r.stderr.decode()
            leaks += _leaks(r.stdout, "deploy stdout") + _leaks(r.stderr, "deploy stderr")
        # everything the API server received (bodies included): references only
        for method, path, body in double.requests:
            leaks += _leaks(json.dumps(body), f"{method} {path}")
        for cm in double.of_kind("configmaps"):
            leaks += _zip_leaks(base64.b64decode(cm["binaryData"]["code.zip"]), "deployed configmap")
        assert double.of_kind("workflowtemplates")
        # the bearer token went to the server in a header only (not checked here), never in a body
        assert not leaks, leaks
    finally:
        double.stop()


def test_stepfunctions_deploy_leaks_nothing(tmp_path, env, sfn_moto):
    flow, e = env
    bucket = "flowc-secrets-" + uuid.uuid4().hex[:8]
    sfn_moto.ensure_bucket(bucket)
    sfn_moto.ensure_queue("q")
    e = dict(e, AWS_ENDPOINT_URL=sfn_moto.endpoint, FLOWC_DATASTORE=f"s3://{bucket}/ds")
    name = "secret-" + uuid.uuid4().hex[:6]
    args = ["deploy", str(flow), "-t", "stepfunctions", "--batch-queue", "q", "--branch", name, "--eks-cluster", "flowc-eks",
            "--sfn-role-arn", "arn:aws:iam::123456789012:role/sfn"]
    leaks = []
    for extra in (["--dry-run"], []):
        r = flowc(args + extra, e, tmp_path)
        assert r.returncode == 0, r.stderr.decode()
        leaks += _leaks(r.stdout, "deploy stdout") + _leaks(r.stderr, "deploy stderr")
    s3 = sfn_moto.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    zips = [k for k in keys if k.endswith(".zip")]
    assert zips, keys
    for k in zips:
        leaks += _zip_leaks(s3.get_object(Bucket=bucket, Key=k)["Body"].read(), k)
    sfn = sfn_moto.client("stepfunctions")
    for m in sfn.list_state_machines()["stateMachines"]:
        leaks += _leaks(sfn.describe_state_machine(stateMachineArn=m["stateMachineArn"])["definition"], m["name"])
    for jd in sfn_moto.client("batch").describe_job_definitions()["jobDefinitions"]:
        leaks += _leaks(json.dumps(jd, default=str), "job definition " + jd["jobDefinitionName"])
    assert not leaks, leaks


RUN_FLOW = '''
import hashlib
import os

from metaflow import FlowSpec, secrets, step


class SecretRunFlow(FlowSpec):
    @secrets(sources=["%s"])
    @step
    def start(self):
        self.sha = hashlib.sha256(os.environ.get("DB_PASSWORD", "").encode()).hexdigest()
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("secret", [
    {"DB_PASSWORD": SECRET_VALUE},                       # fine: the step gets it
    "not json " + SECRET_VALUE,                          # malformed: the error must not echo it
    {"BAD-NAME": SECRET_VALUE},                          # bad key: named, value not shown
    [SECRET_VALUE],                                      # not an object
])
def test_flowc_run_never_logs_or_stores_secret_values(tmp_path, moto_server, secret):
    """A run reading @secrets from Secrets Manager (moto): the value reaches the step (its hash
    is stored) or the task fails with a message; in no case does the value appear in the run's
    output or in any file of the datastore (manifests, records, blobs, code package)."""
    import boto3

    from tests.runtime_fixtures import run

    name = "s-" + uuid.uuid4().hex[:8]
    boto3.client("secretsmanager", endpoint_url=moto_server).create_secret(
        Name=name, SecretString=secret if isinstance(secret, str) else json.dumps(secret))
    flow = tmp_path / "secret_run_flow.py"
    flow.write_text(RUN_FLOW % name)
    ds = tmp_path / "ds"
    code, rid, out = run(str(flow), datastore="file://" + str(ds))
    ok = isinstance(secret, dict) and "DB_PASSWORD" in secret
    assert code == (0 if ok else 1), out
    leaks = _leaks(out, "run output")
    for dirpath, _dirs, files in os.walk(ds):
        for f in files:
            data = open(os.path.join(dirpath, f), "rb").read()
            leaks += _leaks(data, f)
            if f.endswith(".zip"):
                leaks += _zip_leaks(data, f)
    assert not leaks, leaks
    if ok:
        import hashlib

        from runtime_shim.client import Run

        sha = Run("SecretRunFlow/" + rid, datastore="file://" + str(ds))["start"].task.data.sha
        assert sha == hashlib.sha256(SECRET_VALUE.encode()).hexdigest()
