"""Metaflow Configs resolved at compile time (compiler/frontend/configs.py) and deploy-time
environment reads (--resolve-env): the values reach the compiled resource requests on both targets,
the runtime spec (so tasks see what the compiler used), and bad configs are refused with the file,
the key and the place in the flow. The runs on three engines are tests/parity (valid_own/config_*)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from compiler.cli import main
from compiler.frontend.api import analyze_file
from compiler.frontend.configs import FrontendOptions
from compiler.pipeline import compile_file
from compiler.settings import resolve

OWN = Path(__file__).parent / "flows" / "valid_own"
SETTINGS = {"datastore": "s3://bucket/prefix", "batch_queue": "q"}


def _settings(**extra):
    return resolve({**SETTINGS, **extra}, environ={})


def argo_requests(path, **extra) -> dict[str, dict]:
    """step -> the container's resource requests (template defaults filled in)."""
    result = compile_file(str(path), "argo", settings=_settings(**extra))
    assert result.ok, result.diagnostics
    docs = [d for f in result.files for d in yaml.safe_load_all(f.content) if d]
    wt = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    defaults = wt["spec"].get("templateDefaults", {}).get("container", {}).get("resources", {}).get("requests", {})
    out = {}
    for t in wt["spec"]["templates"]:
        if "container" in t:
            step = t["name"]
            out[step] = {**defaults, **t["container"].get("resources", {}).get("requests", {})}
    return out


def sfn_requests(path, **extra) -> dict[str, dict]:
    result = compile_file(str(path), "stepfunctions", settings=_settings(**extra))
    assert result.ok, result.diagnostics
    asl = json.loads(next(f for f in result.files if f.name.endswith(".asl.json")).content)
    out = {}
    for name, state in asl["States"].items():
        overrides = state.get("Parameters", {}).get("ContainerOverrides", {})
        if "ResourceRequirements" in overrides:
            out[name] = {r["Type"]: r["Value"] for r in overrides["ResourceRequirements"]}
    return out


def test_json_config_reaches_resources_retry_and_environment_on_both_targets():
    flow = OWN / "config_json.py"
    argo = argo_requests(flow)
    assert argo["start"]["cpu"] == "2" and argo["start"]["memory"] == "6144Mi"
    assert sfn_requests(flow)["start"] == {"VCPU": "2", "MEMORY": "6144"}
    model = analyze_file(flow).model
    train = {d.name: d.args for d in model.steps["train"].decorators}
    assert train["retry"] == {"times": 2} and train["timeout"] == {"seconds": 600}
    start = {d.name: d.args for d in model.steps["start"].decorators}
    assert start["environment"] == {"vars": {"GREETING": "hello from config", "MODE": "test"}}
    rounds = next(p for p in model.parameters if p.name == "rounds")
    assert rounds.default == 3
    # the config file is an input of the analysis (an analysis cache keys on it)
    assert model.input_files == [str(OWN / "config_json.json")]


def test_config_expr_project_schedule_and_spread_config():
    flow = OWN / "config_project.py"
    argo = argo_requests(flow)
    assert argo["start"]["cpu"] == "1" and argo["start"]["memory"] == "5120Mi"
    assert argo["end"]["cpu"] == "2" and argo["end"]["memory"] == "6144Mi"
    assert sfn_requests(flow) == {"start": {"VCPU": "1", "MEMORY": "5120"}, "end": {"VCPU": "2", "MEMORY": "6144"}}
    result = compile_file(str(flow), "argo", settings=_settings())
    docs = [d for f in result.files for d in yaml.safe_load_all(f.content) if d]
    wt = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    assert wt["metadata"]["annotations"]["flowc.dev/project"] == "cfgdemo"
    cron = next(d for d in docs if d["kind"] == "CronWorkflow")
    assert cron["spec"]["schedules"] == ["0 6 * * *"]
    # configs are not workflow arguments: their values are fixed in the package
    names = {p["name"] for p in wt["spec"]["arguments"]["parameters"]}
    assert "deploy" not in names and "limits" not in names
    assert result.plan.project == "cfgdemo"


def test_toml_and_yaml_configs_and_their_parser_spellings():
    flow = OWN / "config_formats.py"
    assert argo_requests(flow)["start"] == {**argo_requests(flow)["start"], "cpu": "3", "memory": "8192Mi"}
    assert sfn_requests(flow)["start"] == {"VCPU": "3", "MEMORY": "8192"}
    model = analyze_file(flow).model
    values = {p.name: p.default for p in model.configs}
    assert values["settings"] == values["same"] == {"title": "from toml", "released": "2024-01-02",
                                                   "compute": {"cpu": 3}}
    assert values["sizes"] == {"compute": {"memory": 8192}, "labels": ["a", "b"]}
    assert values["inline"] == {"name": "inline"}


def test_the_runtime_spec_carries_the_resolved_values_as_json():
    """The package's flowc.json holds the values (YAML shipped as JSON), so a task needs neither
    the config file nor a YAML parser."""
    import io
    import zipfile

    result = compile_file(str(OWN / "config_formats.py"), "argo", settings=_settings())
    spec = json.loads(zipfile.ZipFile(io.BytesIO(result.package.data)).read("flowc.json"))
    configs = {p["name"]: p for p in spec["parameters"] if p["kind"] == "config"}
    assert configs["sizes"]["default"] == {"compute": {"memory": 8192}, "labels": ["a", "b"]}
    assert configs["sizes"]["has_default"] and not configs["sizes"]["plain"]
    names = zipfile.ZipFile(io.BytesIO(result.package.data)).namelist()
    assert "flow/config_formats.yaml" not in names


def _copy(tmp_path, name="config_json"):
    shutil.copy(OWN / f"{name}.py", tmp_path / f"{name}.py")
    shutil.copy(OWN / f"{name}.json", tmp_path / f"{name}.json")
    return tmp_path / f"{name}.py"


def test_a_config_file_edited_between_two_compiles_changes_the_output(tmp_path):
    flow = _copy(tmp_path)
    before = compile_file(str(flow), "argo", settings=_settings())
    data = json.loads((tmp_path / "config_json.json").read_text())
    data["resources"]["cpu"] = 5
    (tmp_path / "config_json.json").write_text(json.dumps(data))
    after = compile_file(str(flow), "argo", settings=_settings())
    assert before.files[0].content != after.files[0].content
    assert before.package.sha256 != after.package.sha256
    assert argo_requests(flow)["start"]["cpu"] == "5"
    again = compile_file(str(flow), "argo", settings=_settings())
    assert again.files[0].content == after.files[0].content      # deterministic


def test_config_and_config_value_flags_override_the_default(tmp_path):
    flow = str(OWN / "config_json.py")
    other = tmp_path / "prod.json"
    prod = {"mode": "prod", "resources": {"cpu": 8, "memory": 16384}, "env": {},
            "train": {"rounds": 3, "retries": 0, "timeout_seconds": 60}}
    other.write_text(json.dumps(prod))
    r = CliRunner().invoke(main, ["compile", flow, "--target", "argo", "--config", "cfg", str(other)])
    assert r.exit_code == 0, r.output
    wt = next(d for d in yaml.safe_load_all(r.stdout) if d and d["kind"] == "WorkflowTemplate")
    start = next(t for t in wt["spec"]["templates"] if t["name"] == "start")
    assert start["container"]["resources"]["requests"]["cpu"] == "8"
    assert argo_requests(flow, config_value=(("cfg", json.dumps(dict(prod, resources={"cpu": 6, "memory": 1}))),))[
        "start"]["cpu"] == "6"


@pytest.mark.parametrize("args, code, words", [
    (["--config", "nope", "x.json"], "FC540", "no Config named 'nope'"),
    (["--config", "cfg", "a.json", "--config-value", "cfg", "{}"], "FC541", "both --config and --config-value"),
    (["--config", "cfg", "/no/such/file.json"], "FC250", "/no/such/file.json does not exist"),
    (["--config-value", "cfg", "{\"mode\": "], "FC251", "--config-value:1:10: not valid JSON"),
])
def test_bad_overrides_are_refused(args, code, words):
    r = CliRunner().invoke(main, ["compile", str(OWN / "config_json.py"), "--target", "argo", *args])
    assert r.exit_code == 1, r.output
    assert code in r.output and words in r.output, r.output


@pytest.mark.parametrize("flow, code, line, words", [
    ("fc250_config_missing.py", "FC250", 6, "no_such_config.json"),
    ("fc251_config_parse.py", "FC251", 6, "fc251_config_parse.json:4:1: not valid JSON"),
    ("fc252_config_type.py", "FC252", 6, "must hold a mapping"),
    ("fc253_config_key.py", "FC253", 8, "`cfg.resources` (config 'cfg' from default_value) has no key 'cpus'"),
    ("fc254_config_not_mapping.py", "FC254", 8, "`cfg.cpu`"),
    ("fc255_config_parser.py", "FC255", 10, 'parser="tomllib.loads"'),
    ("fc256_config_required.py", "FC256", 6, "--config cfg PATH"),
])
def test_bad_configs_point_at_file_key_and_place(flow, code, line, words):
    a = analyze_file(Path(__file__).parent / "flows" / "invalid_own" / flow)
    hits = [d for d in a.diagnostics if d.code == code]
    assert hits and hits[0].span.line == line and words in hits[0].message, a.diagnostics
    assert [d.code for d in a.diagnostics if d.is_error] == [code]      # one error, no FC201 noise


def test_toml_and_yaml_parse_errors_name_the_file_line_and_column(tmp_path):
    (tmp_path / "c.toml").write_text('a = 1\nb = "x\n')
    (tmp_path / "c.yaml").write_text("a: [1\nb: 2\n")
    (tmp_path / "flow.py").write_text(
        "from metaflow import Config, FlowSpec, step\n\n"
        "class F(FlowSpec):\n"
        "    t = Config('t', default='c.toml', parser='tomllib.loads')\n"
        "    y = Config('y', default='c.yaml', parser='yaml.safe_load')\n\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n")
    found = {d.message.split(":")[0]: d for d in analyze_file(tmp_path / "flow.py").diagnostics}
    t, y = found["config 't'"], found["config 'y'"]
    assert t.code == y.code == "FC251" and t.span.line == 4 and y.span.line == 5
    assert "c.toml:2:" in t.message and "not valid TOML" in t.message
    assert "c.yaml:2:" in y.message and "not valid YAML" in y.message


def test_run_param_for_a_config_points_to_the_config_flag(tmp_path):
    from compiler.runner import run_flow

    lines = []
    code = run_flow(str(OWN / "config_json.py"), params=("cfg=other.json",),
                    datastore="file://" + str(tmp_path), echo=lines.append)
    assert code == 2
    assert "'cfg' is a Config, not a Parameter" in lines[-1] and "--config cfg PATH" in lines[-1]


def test_run_with_config_flag_uses_that_file(tmp_path):
    from runtime_shim.client import Run

    other = tmp_path / "other.json"
    data = json.loads((OWN / "config_json.json").read_text())
    data["train"]["retries"] = 0          # a key the flow's own asserts leave alone
    other.write_text(json.dumps(data))
    ds = tmp_path / "ds"
    r = CliRunner().invoke(main, ["run", str(OWN / "config_json.py"), "--datastore", str(ds),
                                  "--config", "cfg", str(other)])
    assert r.exit_code == 0, r.output
    run_id = r.stdout.strip().splitlines()[-1]
    cfg = Run(f"ConfigJsonFlow/{run_id}", datastore="file://" + str(ds)).data.cfg
    assert cfg.train.retries == 0 and cfg["env"]["GREETING"] == "hello from config"


ENV_FLOW = """\
import os

from metaflow import FlowSpec, environment, step


class EnvFlow(FlowSpec):
    @environment(vars={"STEP_VAR": f"{os.getenv('MSG')} from local",
                       "OTHER": os.environ.get("FLOWC_TEST_UNSET", "fallback")})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_environment_reads_need_the_opt_in_and_are_recorded(tmp_path):
    flow = tmp_path / "env_flow.py"
    flow.write_text(ENV_FLOW)
    refused = analyze_file(flow)
    assert [d.code for d in refused.diagnostics if d.is_error] == ["FC201"]
    assert "--resolve-env" in refused.diagnostics[0].message and refused.diagnostics[0].span.line == 7

    opts = FrontendOptions(resolve_env=True, environ={"MSG": "hi"})
    model = analyze_file(flow, options=opts).model
    assert model.steps["start"].decorators[0].args == {"vars": {"STEP_VAR": "hi from local", "OTHER": "fallback"}}
    assert model.env_reads == {"FLOWC_TEST_UNSET": None, "MSG": "hi"}

    env = {**os.environ, "MSG": "hi"}
    env.pop("FLOWC_TEST_UNSET", None)
    runner = CliRunner(env=env)
    argo = runner.invoke(main, ["compile", str(flow), "--target", "argo", "--resolve-env"])
    assert argo.exit_code == 0, argo.output
    wt = next(d for d in yaml.safe_load_all(argo.stdout) if d and d["kind"] == "WorkflowTemplate")
    assert wt["metadata"]["annotations"]["flowc.dev/compile-env"] == "FLOWC_TEST_UNSET,MSG"
    start = next(t for t in wt["spec"]["templates"] if t["name"] == "start")
    assert {"name": "STEP_VAR", "value": "hi from local"} in start["container"]["env"]
    assert argo.stdout == runner.invoke(main, ["compile", str(flow), "--target", "argo", "--resolve-env"]).stdout
    sfn = compile_file(str(flow), "stepfunctions", settings=_settings(resolve_env=True))
    assert sfn.ok, sfn.diagnostics
    asl = json.loads(next(f for f in sfn.files if f.name.endswith(".asl.json")).content)
    assert "environment variables FLOWC_TEST_UNSET, MSG" in asl["Comment"]


def test_resolve_env_from_pyproject(tmp_path):
    flow = tmp_path / "env_flow.py"
    flow.write_text(ENV_FLOW)
    (tmp_path / "pyproject.toml").write_text("[tool.flowc]\nresolve_env = true\n")
    settings = resolve({"datastore": "s3://b/p"}, flow_dir=str(tmp_path), environ={})
    assert settings.resolve_env is True
    assert compile_file(str(flow), "argo", settings=settings).ok


def test_missing_environment_variable_is_fc259(tmp_path):
    flow = tmp_path / "env_flow.py"
    flow.write_text(ENV_FLOW.replace('os.getenv(\'MSG\')', "os.environ['MSG']"))
    a = analyze_file(flow, options=FrontendOptions(resolve_env=True, environ={}))
    assert [d.code for d in a.diagnostics if d.is_error] == ["FC259"]
    assert "MSG" in a.diagnostics[0].message


def test_config_value_inside_the_task_is_read_only_mapping_with_attributes():
    from runtime_shim.configs import ConfigValue

    value = ConfigValue({"a": {"b": [{"c": 1}]}})
    assert value.a.b[0].c == 1 and value == {"a": {"b": [{"c": 1}]}}
    with pytest.raises(TypeError):
        value["x"] = 1
    with pytest.raises(AttributeError, match="no key 'zz'"):
        _ = value.zz
    import pickle

    assert pickle.loads(pickle.dumps(value)).a.b[0].c == 1
    assert json.loads(json.dumps(value)) == {"a": {"b": [{"c": 1}]}}


def test_a_flow_decorator_reading_the_class_attribute_is_told_to_use_config_expr(tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text("from metaflow import Config, FlowSpec, project, step\n\n"
                    "@project(name=cfg.project)\n"
                    "class F(FlowSpec):\n"
                    "    cfg = Config('cfg', default_value={'project': 'p'})\n\n"
                    "    @step\n    def start(self):\n        self.next(self.end)\n\n"
                    "    @step\n    def end(self):\n        pass\n")
    [d] = [d for d in analyze_file(flow).diagnostics if d.is_error]
    assert d.code == "FC201" and d.span.line == 3 and 'config_expr("cfg")' in d.message


def test_a_default_file_outside_the_flows_folder_needs_allow_outside_files():
    flow = Path(__file__).parent / "flows" / "invalid_own" / "fc260_config_outside.py"
    [d] = [d for d in analyze_file(flow).diagnostics if d.is_error]
    assert d.code == "FC260" and "outside the flow's folder" in d.message
    a = analyze_file(flow, options=FrontendOptions(allow_outside_files=True))
    assert a.ok and a.model.configs[0].default["mode"] == "test"
    assert compile_file(str(flow), "argo", settings=_settings(allow_outside_files="true")).ok


PLAIN = '''from metaflow import Config, FlowSpec, step


class PlainFlow(FlowSpec):
    raw = Config("raw", default_value='{"raw": "string", "number": 123}', plain=True)
    parsed = Config("parsed", default_value='{"a": 1}')
    nothing = Config("nothing", default_value=None, plain=True)

    @step
    def start(self):
        assert self.raw == '{"raw": "string", "number": 123}', repr(self.raw)
        assert self.parsed.a == 1
        assert self.nothing is None
        self.next(self.end)

    @step
    def end(self):
        assert isinstance(self.raw, str)
'''


def test_plain_config_is_the_text_itself_and_runs(tmp_path):
    """Metaflow's Config(..., plain=True): the value as read, not parsed or wrapped (not FC216)."""
    import subprocess
    import sys

    flow = tmp_path / "plain.py"
    flow.write_text(PLAIN)
    a = analyze_file(str(flow))
    assert not [d for d in a.diagnostics if d.is_error], a.diagnostics
    values = {p.name: p.default for p in a.model.parameters}
    assert values["raw"] == '{"raw": "string", "number": 123}' and values["parsed"] == {"a": 1}
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(flow), "--datastore",
                           "file://" + str(tmp_path / "ds")], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent)))
    assert done.returncode == 0, done.stdout + done.stderr


OWN_PARSER = '''import tomllib

from metaflow import Config, FlowSpec, resources, step


def parse_limits(text):
    """A parser of the flow's own: a known format plus a key."""
    table = tomllib.loads(text)
    if "limits" not in table:
        raise ValueError("no [limits] table")
    return table["limits"]


def count_lines(text):
    total = 0
    for _ in text.splitlines():
        total += 1
    return {"lines": total}


class OwnParserFlow(FlowSpec):
    limits = Config("limits", default="project.toml", parser=parse_limits)
    LINES = Config("lines", default_value="a\\nb", parser=count_lines)

    @resources(cpu=limits.cpu)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_parser_of_the_flows_own_runs_when_it_can_be_followed(tmp_path):
    (tmp_path / "project.toml").write_text("[limits]\ncpu = 3\n")
    flow = tmp_path / "own.py"
    flow.write_text(OWN_PARSER)
    a = analyze_file(str(flow))
    values = {p.name: p.default for p in a.model.parameters}
    assert values["limits"] == {"cpu": 3}
    assert a.model.steps["start"].decorators[0].args["cpu"] == 3
    bad = [d for d in a.diagnostics if d.is_error]
    assert [d.code for d in bad] == ["FC255"] and "count_lines() at compile time" in bad[0].message \
        and "For statement" in bad[0].message, bad
