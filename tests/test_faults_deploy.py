"""Deploy races: two `flowc deploy` processes of two versions of the same flow at once (Argo
against tests/k8s_double.py, Step Functions against moto) end with one consistent version: the
deployed template / state machine names a code package that exists, whose bytes hash to the name
it is referenced by, and whose flow file is the same version as the template (a parameter default
tells the versions apart). A deploy that loses the race may fail, but cleanly (exit 1, a message,
no traceback) and without leaving a mix."""
from __future__ import annotations

import base64
import hashlib
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
ROUNDS = 2

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class RaceFlow(FlowSpec):
    version = Parameter("version", default="{v}")

    @step
    def start(self):
        self.marker = "{v}" * {n}
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _write_versions(tmp_path, round_):
    dirs = []
    for i in (1, 2):
        d = tmp_path / f"r{round_}v{i}"
        d.mkdir()
        (d / "race_flow.py").write_text(FLOW.format(v=f"r{round_}v{i}", n=i))
        dirs.append(d)
    return dirs


def _race(args_of, env):
    procs = [subprocess.Popen([sys.executable, "-m", "compiler.cli", *args], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in args_of]
    out = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    assert any(code == 0 for code, _, _ in out), out
    for code, _o, err in out:
        assert code in (0, 1), err
        assert "Traceback" not in err, err
    return out


def _flow_version(package: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        src = next(z.read(n).decode() for n in z.namelist() if n.endswith("race_flow.py"))
    return src.split('default="', 1)[1].split('"', 1)[0]


def test_argo_concurrent_deploys_leave_one_consistent_version(tmp_path):
    double = KubeDouble().start()
    double.nodes.append(node("n1", "16", "64Gi"))
    config = double.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="ml")
    env = dict(os.environ, KUBECONFIG=config, FLOWC_DATASTORE="file://" + str(tmp_path / "ds"))
    env.pop("AWS_ENDPOINT_URL", None)
    try:
        for round_ in range(ROUNDS):
            dirs = _write_versions(tmp_path, round_)
            _race([["deploy", str(d / "race_flow.py"), "-t", "argo"] for d in dirs], env)
            templates = double.of_kind("workflowtemplates")
            assert len(templates) == 1, [t["metadata"]["name"] for t in templates]
            spec = templates[0]["spec"]
            version = next(p["value"] for p in spec["arguments"]["parameters"] if p["name"] == "version")
            assert version in (f"r{round_}v1", f"r{round_}v2")
            cm_names = [v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v]
            assert len(cm_names) == 1, spec.get("volumes")
            cms = {c["metadata"]["name"]: c for c in double.of_kind("configmaps")}
            assert cm_names[0] in cms, "the template names a code package that does not exist"
            package = base64.b64decode(cms[cm_names[0]]["binaryData"]["code.zip"])
            assert cm_names[0] == "flowc-code-" + hashlib.sha256(package).hexdigest()[:12]
            assert _flow_version(package) == version, "template and code package of different versions"
    finally:
        double.stop()


def test_stepfunctions_concurrent_deploys_leave_one_consistent_version(tmp_path, sfn_moto):
    bucket = "flowc-race-" + uuid.uuid4().hex[:8]
    sfn_moto.ensure_bucket(bucket)
    sfn_moto.ensure_queue("race-q")
    branch = "race" + uuid.uuid4().hex[:6]
    env = dict(os.environ, AWS_ENDPOINT_URL=sfn_moto.endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               FLOWC_DATASTORE=f"s3://{bucket}/ds")
    env.pop("AWS_SESSION_TOKEN", None)
    sfn, batch, s3 = (sfn_moto.client(s) for s in ("stepfunctions", "batch", "s3"))
    for round_ in range(ROUNDS):
        dirs = _write_versions(tmp_path, round_)
        _race([["deploy", str(d / "race_flow.py"), "-t", "stepfunctions", "--batch-queue", "race-q",
                "--branch", branch, "--sfn-role-arn", "arn:aws:iam::123456789012:role/sfn"] for d in dirs], env)
        machines = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "RaceFlow"]
        assert len(machines) == 1, machines
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=machines[0]["stateMachineArn"])["definition"])
        text = json.dumps(definition)
        versions = [v for v in (f"r{round_}v1", f"r{round_}v2") if f'"version": "{v}"' in text]
        assert len(versions) == 1, "the state machine's defaults name no single version"
        jobdefs = set()

        def walk(node):
            if isinstance(node, dict):
                if node.get("JobDefinition"):
                    jobdefs.add(node["JobDefinition"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(definition)
        assert jobdefs
        for name in jobdefs:
            found = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE")["jobDefinitions"]
            assert found, f"the state machine names job definition {name}, which does not exist"
            env_of = {e["name"]: e["value"] for e in found[-1]["containerProperties"]["environment"]}
            url, sha = env_of["FLOWC_CODE_URL"], env_of["FLOWC_CODE_SHA256"]
            b, _, key = url[len("s3://"):].partition("/")
            package = s3.get_object(Bucket=b, Key=key)["Body"].read()
            assert hashlib.sha256(package).hexdigest() == sha and key.endswith(sha + ".zip")
            assert _flow_version(package) == versions[0], "state machine and code package of different versions"
