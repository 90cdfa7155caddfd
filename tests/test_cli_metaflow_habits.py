"""What Metaflow users type works: `run FLOW --help` lists the flow's parameters, `--NAME VALUE`
sets one, Metaflow's target names, every option documented, each command only the settings it
reads, `--production` a flag, `--with` errors that name the file, deploy --dry-run offline."""
from __future__ import annotations

import importlib
from pathlib import Path

import click
from click.testing import CliRunner

from compiler.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "flows" / "shared" / "valid"
PARAMS = str(VALID / "parameters.py")


def invoke(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)


def test_run_help_lists_the_flows_parameters():
    out = invoke("run", PARAMS, "--help").output
    lines = " ".join(out.split())
    assert "--who TEXT Who to greet. [required]" in lines
    assert "--rounds INTEGER How many rounds. [default: 3]" in lines
    assert "--alpha FLOAT Learning rate. [default: 0.01]" in lines
    assert "--verbose BOOLEAN Print more. [default: False]" in lines
    assert "--label-with-dash TEXT" in lines
    # a parameter named like one of flowc's own options (`config`: --config NAME PATH) is left to
    # --param rather than shadowing it
    assert "--config JSON" not in lines and "--config NAME PATH" in lines
    # without a flow, the help says how to see them; the command object is not changed by a flow
    plain = invoke("run", "--help").output
    assert "--who" not in plain and "flowc run FLOW --help" in " ".join(plain.split())


def test_run_takes_parameters_as_options_beside_param(tmp_path, monkeypatch):
    from runtime_shim.client import Run

    monkeypatch.chdir(tmp_path)
    ds = "file://" + str(tmp_path / "ds")
    r = invoke("run", PARAMS, "--datastore", ds, "--run-id", "r1", "--who", "flowc", "--rounds", "5",
               "--label-with-dash", "dash", "--param", "alpha=0.5")
    assert r.exit_code == 0, r.output
    assert Run("ParameterFlow/r1", datastore=ds).data.message == "flowc:0.5:5:False:4:dash"
    bad = invoke("run", PARAMS, "--datastore", ds, "--who", "x", "--rounds", "many")
    assert bad.exit_code == 2 and "rounds" in bad.output
    unknown = invoke("run", PARAMS, "--datastore", ds, "--whom", "x")
    assert unknown.exit_code == 2 and "--who" in unknown.output


def test_metaflow_target_names_are_accepted(tmp_path):
    hello = VALID / "hello.py"
    for name in ("argo-workflows", "step-functions"):
        r = invoke("compile", hello, "--target", name, "--datastore", "s3://b/p")
        assert r.exit_code == 0, r.output
        for command in ("deploy", "trigger", "status"):
            assert invoke(command, hello, "--target", name, "--help").exit_code == 0


def _commands():
    for name in sorted(COMMANDS):
        module, attr = COMMANDS[name].split(":")
        yield name, getattr(importlib.import_module(module), attr)


def test_every_option_has_help_text():
    missing = []
    for name, command in _commands():
        ctx = click.Context(command, info_name=name)
        if name == "run":   # with a flow, its parameters too
            command.parse_args(ctx, [PARAMS])
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{name} {param.opts[0]}")
    assert not missing, missing


def test_trigger_and_status_show_only_the_settings_they_read():
    for command in ("trigger", "status"):
        out = invoke(command, "--help").output
        assert "--aws-region" in out and "--k8s-namespace" in out and "--branch" in out
        for unused in ("--ttl-seconds", "--pod-gc", "--image", "--datastore", "--sfn-role-arn", "--max-workers"):
            assert unused not in out, (command, unused)
    assert "--ttl-seconds" in invoke("compile", "--help").output


def test_production_is_a_flag(tmp_path):
    flow = tmp_path / "proj.py"
    flow.write_text((VALID / "hello.py").read_text().replace(
        "from metaflow import", "from metaflow import project,").replace(
        "class HelloFlow", '@project(name="demo")\nclass HelloFlow'))
    prod = invoke("compile", flow, "-t", "argo", "--production")
    assert prod.exit_code == 0, prod.output
    assert "demo.prod.helloflow" in prod.output
    user = invoke("compile", flow, "-t", "argo", "--no-production", "--branch", "feature")
    assert "demo.test.feature.helloflow" in user.output or "demo.feature.helloflow" in user.output, user.output
    assert invoke("compile", flow, "-t", "argo", "--production", "true").exit_code == 2


def test_with_errors_name_the_file():
    hello = str(VALID / "hello.py")
    r = invoke("compile", hello, "-t", "argo", "--with", "kubernetes:cpu=abc")
    assert r.exit_code == 1
    assert r.output.startswith(f"{hello}: FC501 ")


def test_dry_run_needs_no_cluster_and_talks_of_no_absent_kubernetes_steps(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    r = invoke("deploy", VALID / "hello.py", "-t", "argo", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "workflowtemplate default/helloflow" in r.output
    assert "kubernetes" not in r.output.lower()


def test_stepfunctions_missing_settings_in_one_message(monkeypatch):
    for var in ("FLOWC_DATASTORE", "FLOWC_SFN_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    r = invoke("deploy", VALID / "hello.py", "-t", "stepfunctions", "--aws-region", "us-east-1")
    assert r.exit_code == 1
    (line,) = [x for x in r.output.splitlines() if x.startswith("flowc: error:")]
    assert "datastore" in line and "--sfn-role-arn" in line and "FLOWC_DATASTORE" in line
