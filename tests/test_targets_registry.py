"""The target registry (compiler.targets.REGISTRY) drives everything target-specific outside the
targets' own folders: --target choices and aliases, compile output, deployers, explain, settings."""
from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from compiler import targets
from compiler.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = os.path.join(ROOT, "tests", "flows", "shared", "valid", "hello.py")
ENV = {"FLOWC_DATASTORE": "s3://bucket/root", "FLOWC_BATCH_QUEUE": "q"}


def _compile(target, *extra):
    result = CliRunner().invoke(main, ["compile", HELLO, "--target", target, *extra], env=ENV)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.mark.parametrize("alias,name", [("argo-workflows", "argo"), ("step-functions", "stepfunctions")])
def test_metaflow_names_are_aliases(alias, name):
    assert targets.spec(alias).name == name
    assert _compile(alias) == _compile(name)


def test_target_choices_come_from_the_registry():
    for command in ("compile", "deploy", "trigger", "status"):
        help_text = CliRunner().invoke(main, [command, "--help"]).output
        for name in targets.names():
            assert name in help_text, (command, name)
    result = CliRunner().invoke(main, ["compile", HELLO, "--target", "airflow"], env=ENV)
    assert result.exit_code == 2 and "airflow" in result.output


def test_argo_stdout_separates_documents_and_step_functions_prints_the_definition():
    assert _compile("argo").count(b"---\n") == 1           # ConfigMap, WorkflowTemplate
    assert _compile("stepfunctions").startswith(b"{")


def test_commands_name_no_target():
    """No `if target == "argo"`: the commands read everything target-specific from the registry."""
    names = set(targets.names())
    for f in sorted(os.listdir(os.path.join(ROOT, "compiler", "commands"))):
        if not f.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(ROOT, "compiler", "commands", f), encoding="utf-8").read())
        literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not literals & names, (f, literals & names)
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in imported if m.startswith(("compiler.targets.", "compiler.deploy."))}, (f, imported)


@pytest.mark.parametrize("entry", targets.REGISTRY, ids=lambda e: e.name)
def test_every_entry_resolves(entry):
    assert entry.create().name == entry.name
    assert entry.codes_module().__name__ == entry.codes
    deployer = entry.deployer_module()
    for function in ("target_options", "build_plan", "workflow_name", "trigger", "status", "publish_event"):
        assert callable(getattr(deployer, function)), (entry.name, function)
    from compiler.settings import SPEC_BY_NAME

    assert set(entry.settings) <= set(SPEC_BY_NAME)
    assert entry.default_backend in ("kubernetes", "batch")


def test_explain_lists_every_target_code_in_a_fresh_process():
    out = subprocess.run([sys.executable, "-m", "compiler.cli", "explain", "--list"], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    for entry in targets.REGISTRY:
        module = entry.codes_module()
        declared = {getattr(module, n) for n in dir(module) if n.isupper() and str(getattr(module, n)).startswith("FC")}
        assert declared and declared <= listed, (entry.name, declared - listed)


def test_show_config_shows_a_targets_own_settings_only_for_it():
    def shown(target):
        out = CliRunner().invoke(main, ["compile", HELLO, "--target", target, "--show-config"], env=ENV).output
        return {line.split()[0] for line in out.splitlines() if line.strip()}

    argo, sfn = shown("argo"), shown("stepfunctions")
    assert {"sfn_role_arn", "eks_cluster"} <= sfn and not {"sfn_role_arn", "eks_cluster"} & argo
    assert {"pod_gc", "ttl_seconds"} <= argo and not {"pod_gc", "ttl_seconds"} & sfn
    assert {"datastore", "image", "batch_queue"} <= argo & sfn


def test_deployers_take_the_documents_as_data(tmp_path, monkeypatch):
    """build_plan reads OutputFile.documents: the bytes are for files and stdout, never re-parsed."""
    from dataclasses import replace

    from compiler.pipeline import compile_file
    from compiler.settings import resolve

    config = tmp_path / "kubeconfig"
    config.write_text('{"apiVersion": "v1", "kind": "Config", "current-context": "c", '
                      '"clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:9"}}], '
                      '"users": [{"name": "u", "user": {"token": "t"}}], '
                      '"contexts": [{"name": "c", "context": {"cluster": "k", "user": "u", "namespace": "ml"}}]}')
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = resolve({"datastore": "s3://bucket/root", "batch_queue": "q",
                        "sfn_role_arn": "arn:aws:iam::123456789012:role/sfn"}, environ={})
    flow = os.path.join(ROOT, "tests", "flows", "shared", "valid", "scheduled.py")
    for entry in targets.REGISTRY:
        deployer = entry.deployer_module()
        result = compile_file(flow, entry.name, settings=settings, target_options=deployer.target_options(settings))
        assert result.ok, result.diagnostics
        # every file but the state machine definition (sent as text, byte for byte) loses its bytes
        files = [f if f.name.endswith(".asl.json") else replace(f, content=b"not a document") for f in result.files]
        plan = deployer.build_plan(result.plan.flow_name, files, result.package, settings)
        kinds = [action.kind for action in plan.actions]
        # a flow without triggers still removes the Sensor / rules an earlier version deployed
        expected = {"stepfunctions": ["code-package", "job-definition", "state-machine", "schedule", "event-rules"],
                    "argo": ["code-package", "workflowtemplate", "cronworkflow", "sensor"]}
        assert kinds == expected.get(entry.name, kinds) and any(a.switches for a in plan.actions), (entry.name, kinds)
        assert deployer.workflow_name(files) in " ".join(plan.describe())
