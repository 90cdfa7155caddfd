"""`flowc compile -o DIR` writes everything a deployment needs: the documents, the code package
as its own file and a manifest saying what each file is and where the package goes. These tests
compile a flow that reads a data file beside it, DELETE the flow's folder, then deploy from the
bundle alone (upload per the manifest to moto's S3, register/create/apply every file) and run it:
on Step Functions (moto), and on Argo (the executor) both with the package fetched from its s3://
URL and with the self-contained ConfigMap."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import uuid

import yaml
from click.testing import CliRunner

from compiler.commands.compile import compile_command
from tests.parity import engines as E
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

FLOW = '''
from metaflow import FlowSpec, step


class BundleFlow(FlowSpec):
    @step
    def start(self):
        with open("weights.txt") as f:          # beside the flow: travels in the code package
            self.weights = [int(x) for x in f.read().split()]
        self.next(self.double, foreach="weights")

    @step
    def double(self):
        self.out = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.out for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.total == 12, self.total
'''


def _compile(tmp_path, target: str, *flags: str):
    """Compile the flow into tmp_path/out, then remove the flow's folder; returns (out, manifest)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "bundle_flow.py").write_text(FLOW)
    (src / "weights.txt").write_text("1 2 3\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(compile_command, [str(src / "bundle_flow.py"), "--target", target, "-o", str(out),
                                                  *flags], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    shutil.rmtree(src)      # deploy and run from the bundle alone
    manifest = json.loads((out / "BundleFlow.manifest.json").read_text())
    listed = {f["file"] for f in manifest["files"]} | {manifest["code_package"]["file"], "BundleFlow.manifest.json"}
    assert listed == set(os.listdir(out)), "the manifest names every file written, and only those"
    package = (out / manifest["code_package"]["file"]).read_bytes()
    assert hashlib.sha256(package).hexdigest() == manifest["code_package"]["sha256"]
    assert manifest["code_package"]["bytes"] == len(package)
    return out, manifest


def _upload(sfn_moto, out, manifest) -> None:  # noqa: F811
    pkg = manifest["code_package"]
    assert pkg["required"] is True and pkg["upload_to"].startswith("s3://")
    assert pkg["upload_to"] == pkg["datastore"].rstrip("/") + "/" + pkg["key"]
    bucket, _, key = pkg["upload_to"][5:].partition("/")
    sfn_moto.ensure_bucket(bucket)
    sfn_moto.client("s3").put_object(Bucket=bucket, Key=key, Body=(out / pkg["file"]).read_bytes())


def _files(manifest, kind):
    return [f["file"] for f in manifest["files"] if f["kind"] == kind]


def _client_env(sfn_moto, monkeypatch):  # noqa: F811
    for key, value in (("AWS_ENDPOINT_URL", sfn_moto.endpoint), ("AWS_ACCESS_KEY_ID", "testing"),
                       ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)


def _check_run(run_id, datastore):
    snap = E.snapshot("BundleFlow", run_id, datastore)
    assert snap["start"]["t"]["artifacts"]["weights"] == ["list", 1, 2, 3]
    assert sorted(snap["double"]) == ["t-0", "t-1", "t-2"]
    assert snap["join"]["t"]["artifacts"]["total"] == 12


def test_stepfunctions_bundle_deploys_and_runs_from_its_files(tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    from tests.stepfunctions.moto_sfn import ACCOUNT, _queues_of

    datastore = "s3://flowc-bundle-%s/ds" % uuid.uuid4().hex[:8]
    out, manifest = _compile(tmp_path, "stepfunctions", "--datastore", datastore, "--s3-endpoint", sfn_moto.endpoint,
                             "--batch-queue", "flowc-queue", "--aws-region", "us-east-1")
    assert manifest["target"] == "stepfunctions"
    assert manifest["code_package"]["upload_to"].startswith(datastore + "/BundleFlow/code/")
    assert len(_files(manifest, "state-machine")) == 1 and _files(manifest, "batch-job-definition")
    _upload(sfn_moto, out, manifest)
    batch = sfn_moto.client("batch")
    for name in _files(manifest, "batch-job-definition"):
        request = json.loads((out / name).read_text())
        env = {e["name"]: e["value"] for e in request["containerProperties"]["environment"]}
        assert env["FLOWC_CODE_URL"] == manifest["code_package"]["upload_to"]
        batch.register_job_definition(**request)
    definition = (out / _files(manifest, "state-machine")[0]).read_text()
    for queue in _queues_of(json.loads(definition)):
        sfn_moto.ensure_queue(queue)
    arn = sfn_moto.client("stepfunctions").create_state_machine(
        name="bundle-" + uuid.uuid4().hex[:8], definition=definition,
        roleArn="arn:aws:iam::%s:role/flowc-sfn" % ACCOUNT)["stateMachineArn"]
    run_id = "r" + uuid.uuid4().hex[:12]
    desc = sfn_moto.run(arn, run_id, {}, timeout=240)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), str(desc.get("cause"))[:1500])
    _client_env(sfn_moto, monkeypatch)
    _check_run(run_id, datastore)


def test_argo_bundle_with_s3_datastore_fetches_the_package_by_url(tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    from tests.argo_executor.executor import SUCCEEDED, Executor

    datastore = "s3://flowc-bundle-%s/ds" % uuid.uuid4().hex[:8]
    out, manifest = _compile(tmp_path, "argo", "--datastore", datastore, "--s3-endpoint", sfn_moto.endpoint,
                             "--aws-region", "us-east-1")
    assert _files(manifest, "configmap") == []
    [template] = _files(manifest, "workflow-template")
    text = (out / template).read_text()
    assert manifest["code_package"]["upload_to"] in text
    assert "binaryData" not in text and len(text) < 40_000, "the YAML stays reviewable: no embedded package"
    _upload(sfn_moto, out, manifest)
    docs = [yaml.safe_load((out / f["file"]).read_text()) for f in manifest["files"]]
    lines: list[str] = []
    ex = Executor(docs, {}, workdir=str(tmp_path / "exec"), log=lines.append,
                  extra_env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-40:])
    _client_env(sfn_moto, monkeypatch)
    _check_run(ex.run_id, datastore)


def test_argo_bundle_without_remote_datastore_keeps_the_configmap(tmp_path):
    from tests.argo_executor.executor import SUCCEEDED, Executor

    datastore = "file://" + str(tmp_path / "ds")
    out, manifest = _compile(tmp_path, "argo", "--datastore", datastore)
    [cm_file] = _files(manifest, "configmap")
    pkg = manifest["code_package"]
    assert pkg["required"] is False and pkg["upload_to"] is None and pkg["embedded_in"] == cm_file
    cm = yaml.safe_load((out / cm_file).read_text())
    [embedded] = cm["binaryData"].values()
    assert base64.b64decode(embedded) == (out / pkg["file"]).read_bytes()
    docs = [yaml.safe_load((out / f["file"]).read_text()) for f in manifest["files"]]
    lines: list[str] = []
    ex = Executor(docs, {}, workdir=str(tmp_path / "exec"), log=lines.append)
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-40:])
    _check_run(ex.run_id, datastore)


def test_without_o_compile_prints_the_self_contained_documents(tmp_path):
    """Printing to stdout is unchanged: the package stays embedded even with an s3:// datastore."""
    (tmp_path / "bundle_flow.py").write_text(FLOW)
    (tmp_path / "weights.txt").write_text("1 2 3\n")
    result = CliRunner().invoke(compile_command, [str(tmp_path / "bundle_flow.py"), "--target", "argo",
                                                  "--datastore", "s3://b/ds"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    kinds = [d["kind"] for d in yaml.safe_load_all(result.stdout)]
    assert kinds == ["ConfigMap", "WorkflowTemplate"]
