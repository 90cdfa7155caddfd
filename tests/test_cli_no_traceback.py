"""No traceback from any command, whatever the environment: every command against no AWS
credentials, no region, no kubeconfig, an unreachable endpoint, an unknown run id, a read-only
and a full datastore. Each cell expects its exit code and, on failure, one `flowc: error:` line
naming what fixes it. In-process (click's CliRunner) against the session's moto server and a
Kubernetes API stand-in, so the whole matrix stays fast."""
from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from tests.k8s_double import KubeDouble, node

HELLO = (Path(__file__).parent / "flows" / "shared" / "valid" / "hello.py").read_text()
ROLE = "arn:aws:iam::123456789012:role/sfn"
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
            "AWS_DEFAULT_REGION", "AWS_REGION", "FLOWC_AWS_REGION", "FLOWC_DATASTORE", "FLOWC_SFN_ROLE_ARN")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    double = KubeDouble().start()
    double.nodes = [node("worker-1", cpu="16", memory="64Gi")]
    path = double.write_kubeconfig(str(tmp_path_factory.mktemp("kube") / "config"), namespace="ml")
    yield double, path
    double.stop()


@pytest.fixture
def world(tmp_path, monkeypatch, moto_server, kube):
    """A flow, a working AWS (moto) and a working cluster (the double); each cell breaks one thing."""
    import boto3

    flow = tmp_path / "hello.py"
    flow.write_text(HELLO)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("KUBECONFIG", kube[1])
    monkeypatch.setenv("FLOWC_DATASTORE", "file://" + str(tmp_path / "ds"))
    monkeypatch.delenv("FLOWC_DEBUG", raising=False)
    bucket = "flowc-matrix"
    s3 = boto3.client("s3", endpoint_url=moto_server)
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    return {"flow": str(flow), "tmp": tmp_path, "mp": monkeypatch, "s3": f"s3://{bucket}/ds", "moto": moto_server,
            "kube": kube[0]}


def _no_credentials(w):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        w["mp"].delenv(var, raising=False)


def _no_region(w):
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION", "FLOWC_AWS_REGION"):
        w["mp"].delenv(var, raising=False)


def _no_kubeconfig(w):
    w["mp"].setenv("KUBECONFIG", str(w["tmp"] / "no-kubeconfig"))


def _unreachable(w):
    port = _closed_port()
    w["mp"].setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    config = w["tmp"] / "unreachable-kubeconfig"
    config.write_text(Path(os.environ["KUBECONFIG"]).read_text()
                      .replace(w["kube"].url, f"http://127.0.0.1:{port}"))
    w["mp"].setenv("KUBECONFIG", str(config))


def _unknown_run(w):
    import boto3

    sfn = boto3.client("stepfunctions", endpoint_url=w["moto"])
    if not any(m["name"] == "HelloFlow" for m in sfn.list_state_machines()["stateMachines"]):
        sfn.create_state_machine(name="HelloFlow", roleArn=ROLE,
                                 definition='{"StartAt": "a", "States": {"a": {"Type": "Pass", "End": true}}}')


def _read_only(w):
    w["mp"].setenv("FLOWC_DATASTORE", "file:///sys/flowc-read-only")   # EPERM/EROFS even for root


def _full(w):
    from runtime_shim import datastore

    def full(self, key, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", self._p(key))
    w["mp"].setattr(datastore.FileStorage, "write", full)


ENVS = {"no_credentials": _no_credentials, "no_region": _no_region, "no_kubeconfig": _no_kubeconfig,
        "unreachable": _unreachable, "unknown_run": _unknown_run, "read_only": _read_only, "full": _full}

SFN = ["-t", "stepfunctions"]
SFN_DEPLOY = ["-t", "step-functions", "--datastore", "{s3}", "--sfn-role-arn", ROLE, "--batch-queue", "q"]
ALWAYS = [["check", "{flow}"], ["graph", "{flow}"], ["explain", "FC001"], ["compile", "{flow}", "-t", "argo"],
          ["compile", "{flow}", "-t", "stepfunctions", "--datastore", "{s3}"],
          ["deploy", "{flow}", "-t", "argo-workflows", "--dry-run"], ["deploy", "{flow}", *SFN_DEPLOY, "--dry-run"]]

# (environment, command, exit code, what the one line must say)
CELLS = [
    *[(env, cmd, 0, None) for env in ("no_credentials", "no_region", "no_kubeconfig", "unreachable") for cmd in ALWAYS],
    ("no_credentials", ["deploy", "{flow}", *SFN_DEPLOY], 1, "AWS_PROFILE"),
    ("no_credentials", ["trigger", "{flow}", *SFN], 1, "AWS_PROFILE"),
    ("no_credentials", ["status", "{flow}", *SFN], 1, "AWS_PROFILE"),
    ("no_credentials", ["run", "{flow}", "--datastore", "{s3}"], 1, "AWS_PROFILE"),
    ("no_region", ["deploy", "{flow}", *SFN_DEPLOY], 1, "aws_region"),
    ("no_region", ["trigger", "{flow}", *SFN], 1, "--aws-region"),
    ("no_region", ["status", "{flow}", *SFN, "some-run"], 1, "--aws-region"),
    ("no_kubeconfig", ["deploy", "{flow}", "-t", "argo"], 1, "KUBECONFIG"),
    ("no_kubeconfig", ["trigger", "{flow}", "-t", "argo"], 1, "KUBECONFIG"),
    ("no_kubeconfig", ["status", "{flow}", "-t", "argo"], 1, "KUBECONFIG"),
    # flowc run answers 2 for a backend it cannot set up (compiler/runner/hybrid.py's choice)
    ("no_kubeconfig", ["run", "{flow}", "--with", "kubernetes", "--datastore", "{s3}"], 2, "KUBECONFIG"),
    ("unreachable", ["deploy", "{flow}", "-t", "argo"], 1, "failed"),
    ("unreachable", ["status", "{flow}", "-t", "argo"], 1, "cannot reach"),
    ("unreachable", ["trigger", "{flow}", *SFN], 1, "cannot reach"),
    ("unreachable", ["status", "{flow}", *SFN], 1, "cannot reach"),
    ("unreachable", ["deploy", "{flow}", *SFN_DEPLOY, "--skip-preflight"], 1, "failed"),
    ("unknown_run", ["status", "{flow}", *SFN, "nosuchrun"], 1, "nosuchrun"),
    ("unknown_run", ["status", "{flow}", "-t", "argo", "nosuchrun"], 1, "nosuchrun"),
    ("unknown_run", ["show", "HelloFlow/nosuchrun"], 1, "nosuchrun"),
    ("read_only", ["run", "{flow}"], 1, "--datastore"),
    ("read_only", ["show", "HelloFlow/r1"], 1, None),
    ("read_only", ["compile", "{flow}", "-t", "argo", "-o", "/sys/flowc-read-only/out"], 1, "cannot write"),
    ("full", ["run", "{flow}", "--run-id", "r1"], 1, "no space"),
]


@pytest.mark.parametrize("env,command,code,says", CELLS,
                         ids=[f"{e}-{c[0]}-{i}" for i, (e, c, _, _) in enumerate(CELLS)])
def test_no_traceback(world, env, command, code, says):
    ENVS[env](world)
    args = [a.format(flow=world["flow"], s3=world["s3"]) for a in command]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    out = result.output
    assert "Traceback" not in out, out
    assert result.exit_code == code, out
    if code:
        errors = [line for line in out.splitlines() if line.startswith("flowc: error:")]
        assert errors, out
        if says:
            assert says in out, out


def test_flowc_debug_keeps_the_traceback(world):
    _no_region(world)
    world["mp"].setenv("FLOWC_DEBUG", "1")
    result = CliRunner().invoke(main, ["trigger", world["flow"], *SFN], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" in result.output and "NoRegionError" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("flowc: error: no AWS region")
