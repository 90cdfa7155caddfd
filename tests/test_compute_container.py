"""compiler.compute.container: one task argv for every engine, the bootstrap from the installed
package data, one code-package key; the one kubeconfig loader."""
from __future__ import annotations

import json
import os

import pytest

from compiler.compute import container

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOWS = os.path.join(ROOT, "tests", "flows", "shared", "valid")


def test_task_argv_order_and_omitted_options():
    argv = container.task_argv("train", run_id="r1", datastore="s3://b/p", output_dir="/out", index_path="0,1",
                               attempt="2", iteration="3", params=[("alpha", "0.5"), ("name", "a=b")])
    assert argv == ["task", "--datastore", "s3://b/p", "--run-id", "r1", "--step", "train", "--output-dir", "/out",
                    "--index-path", "0,1", "--attempt", "2", "--iteration", "3",
                    "--param", "alpha=0.5", "--param", "name=a=b"]
    assert container.task_argv("end", run_id="r") == ["task", "--run-id", "r", "--step", "end"]
    assert container.task_argv("s", run_id="r", params_json="{}")[-2:] == ["--params-json", "{}"]


def _argo_and_sfn(flow):
    from compiler.pipeline import compile_file
    from compiler.settings import resolve

    settings = resolve({"datastore": "s3://b/root", "batch_queue": "q"}, environ={})
    argo = compile_file(os.path.join(FLOWS, flow), "argo", settings=settings)
    sfn = compile_file(os.path.join(FLOWS, flow), "stepfunctions", settings=settings)
    assert argo.ok and sfn.ok
    return argo, sfn


def test_the_engines_run_the_same_argv_shape():
    """Argo's args and Step Functions' States.Array hold the options in task_argv's order."""
    import re

    argo, sfn = _argo_and_sfn("foreach.py")
    wt = next(d for f in argo.files for d in f.documents if d["kind"] == "WorkflowTemplate")
    templates = {t["name"]: t for t in wt["spec"]["templates"]}
    definition = sfn.files[0].documents[0]
    for step in ("start", "gather", "end"):
        argo_options = [a for a in templates[step]["container"]["args"] if a.startswith("--")]
        command = definition["States"][step]["Parameters"]["ContainerOverrides"]["Command.$"]
        sfn_options = re.findall(r"'(--[a-z-]+)'", command)
        shared = [o for o in argo_options if o in sfn_options]
        assert shared == [o for o in sfn_options if o in argo_options] and {"--run-id", "--step"} <= set(shared)


def test_bootstrap_is_the_template_without_comments():
    raw = open(os.path.join(ROOT, "templates", "bootstrap.py.j2"), encoding="utf-8").read()
    source = container.bootstrap_source()
    assert source.startswith("import ") and "#" not in source.splitlines()[0]
    code_lines = [line for line in raw.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert source.splitlines() == code_lines
    compile(source, "bootstrap", "exec")


def test_code_key_is_the_runtime_datastore_layout(tmp_path):
    """The compiler's key (deploy, run, targets) and the runtime's save_code agree."""
    from runtime_shim.datastore import FlowDatastore

    ds = FlowDatastore("file://" + str(tmp_path), "HelloFlow")
    assert ds.save_code(b"zip", "abc") == container.code_key("HelloFlow", "abc")
    assert container.code_url("s3://b/p/", "HelloFlow", "abc") == "s3://b/p/HelloFlow/code/abc.zip"


def test_compile_and_deploy_name_the_same_package_url():
    argo, sfn = _argo_and_sfn("hello.py")
    assert sfn.package.url == container.code_url("s3://b/root", "HelloFlow", sfn.package.sha256)
    jobdef = next(f.documents[0] for f in sfn.files if f.name.endswith(".jobdef.json"))
    env = {e["name"]: e["value"] for e in jobdef["containerProperties"]["environment"]}
    assert env["FLOWC_CODE_URL"] == sfn.package.url


def test_batch_job_definition_name_is_its_content_hash():
    from compiler.compute.batch import job_definition, job_definition_name
    from compiler.ir import Compute

    a = job_definition("F", Compute("batch"), None, code_sha256="0" * 64, code_url=None)
    b = job_definition("F", Compute("batch", memory=9000), None, code_sha256="0" * 64, code_url=None)
    c = job_definition("F", Compute("batch", shared_memory=64), None, code_sha256="0" * 64, code_url=None)
    assert a == b                     # resources travel per task, not in the definition
    assert a["jobDefinitionName"] != c["jobDefinitionName"]
    body = {k: v for k, v in c.items() if k != "jobDefinitionName"}
    assert c["jobDefinitionName"] == job_definition_name("F", json.loads(json.dumps(body)))


def test_kubeconfig_wins_and_a_missing_one_is_a_clear_error(tmp_path, monkeypatch):
    from compiler.compute.kubernetes import KubeConfigError, load_api_client

    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://kube.example:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(config))
    # an in-cluster environment too: the explicit kubeconfig must still win
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    assert load_api_client().configuration.host == "https://kube.example:6443"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(KubeConfigError, match="no Kubernetes configuration"):
        load_api_client()
