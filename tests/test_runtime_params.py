"""The one parameter path (runtime_shim/params.py): `flowc trigger`/`deploy`'s check, `flowc run`'s
check and the task's conversion are the same code, so they agree on every value; `--param-b64`
carries any value byte-exact."""
from __future__ import annotations

import json
import os

import pytest

from runtime_shim import params
from tests.runtime_fixtures import Package, file_root, write_flow

BOOL_FLOW = '''
from metaflow import FlowSpec, Parameter, JSONType, step

class P(FlowSpec):
    flag = Parameter("flag", type=bool, default=False)
    n = Parameter("n", type=int, default=1)
    text = Parameter("text", default="")
    doc = Parameter("doc", type=JSONType, default="{}")

    @step
    def start(self):
        print("VALUES", repr((self.flag, self.n, self.text, self.doc)))
        self.next(self.end)

    @step
    def end(self):
        pass
'''

SPELLINGS = ["1", "true", "t", "yes", "y", "on", "0", "false", "f", "no", "n", "off",
             "TRUE", " Yes ", "On", "maybe", "", "2", "enabled", "nope", "truthy"]


def _decl(ptype):
    from compiler.frontend.model import ParameterDecl
    from compiler.diagnostics import Span

    return ParameterDecl(attr="p", name="p", kind="parameter", type=ptype, span=Span(1, 1, 1, 1))


@pytest.mark.parametrize("word", SPELLINGS)
def test_trigger_check_and_task_agree_on_booleans(word):
    """What `flowc trigger --param flag=...` accepts is exactly what the task converts."""
    from compiler.params import check
    from runtime_shim.task import UsageError, convert_value

    accepted_by_trigger = check([_decl("bool")], {"p": word}) == []
    try:
        value = convert_value({"name": "p", "type": "bool"}, word)
        accepted_by_task = True
    except UsageError:
        accepted_by_task = False
    assert accepted_by_trigger == accepted_by_task
    assert accepted_by_task == (word.strip().lower() in params.TRUE_WORDS + params.FALSE_WORDS)
    if accepted_by_task:
        assert value is (word.strip().lower() in params.TRUE_WORDS)


@pytest.mark.parametrize("ptype,raw", [("int", "7"), ("int", "x"), ("float", "1e3"), ("float", "1.2.3"),
                                       ("json", '{"a": 1}'), ("json", "{nope"), ("str", "{{x}}")])
def test_trigger_check_and_task_agree_on_other_types(ptype, raw):
    from compiler.params import check

    try:
        params.convert({"name": "p", "type": ptype}, raw)
        ok = True
    except params.ParamError as e:
        ok = False
        assert "parameter 'p'" in str(e)
    assert (check([_decl(ptype)], {"p": raw}) == []) == ok


HOSTILE = ["{{workflow.name}}", "{{=1+1}}", "a=b=c", "ünïcødé ✓", "line1\nline2\r\n", "", "'\"$(rm -rf /)`",
           "{{workflow.parameters.flowc-datastore}}", "\x00\x01", " padded "]


@pytest.mark.parametrize("value", HOSTILE)
def test_b64_round_trip(value):
    encoded = params.encode_b64(value)
    assert "{" not in encoded and "}" not in encoded
    assert params.decode_b64("p", encoded) == value
    assert params.from_argv([{"name": "p", "required": True}], [], ["p=" + encoded]) == {"p": value}


@pytest.mark.parametrize("bad", ["not base64!", "YWJj=", "YQ", "{{x}}", "/w=="])
def test_invalid_b64_names_the_parameter(bad):
    with pytest.raises(params.ParamError, match="--param-b64 myparam: not standard base64"):
        params.decode_b64("myparam", bad)


def test_plain_and_b64_params_reach_the_start_step(tmp_path):
    flow = write_flow(tmp_path, BOOL_FLOW)
    pkg = Package(flow, tmp_path)
    root = file_root(tmp_path)
    doc = {"k": "{{workflow.name}}", "u": "ü"}
    proc = pkg.task(root, "r1", "start", params=None, env=None)
    assert proc.returncode == 0, proc.stderr
    # the task's own CLI: plain --param and --param-b64 together
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "runtime_shim", "task", "--datastore", root, "--run-id", "r2",
           "--step", "start", "--param", "flag=on", "--param", "n=5",
           "--param-b64", "text=" + params.encode_b64("{{workflow.name}} = ü"),
           "--param-b64", "doc=" + params.encode_b64(json.dumps(doc))]
    env = dict(os.environ, PYTHONPATH=pkg.zip, PYTHONSAFEPATH="1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "VALUES (True, 5, '{{workflow.name}} = ü', %r)" % (doc,) in proc.stdout
    bad = [sys.executable, "-m", "runtime_shim", "task", "--datastore", root, "--run-id", "r3",
           "--step", "start", "--param-b64", "text=%%%"]
    proc = subprocess.run(bad, env=env, capture_output=True, text=True, cwd=str(tmp_path), timeout=60)
    assert proc.returncode == 2 and "--param-b64 text: not standard base64" in proc.stderr


def test_defaults_of_include_files_read_from_the_flow_dir_without_chdir(tmp_path):
    (tmp_path / "data.txt").write_text("from the flow dir")
    # a Config's default is the value the compiler resolved, never a path read by the task
    declared = [{"name": "f", "attr": "f", "kind": "include_file", "has_default": True, "default": "data.txt"},
                {"name": "c", "attr": "c", "kind": "config", "has_default": True, "default": {"a": {"b": 1}}}]
    (tmp_path / "cfg.json").write_text('{"a": 2}')
    cwd = os.getcwd()
    values = params.resolve(declared, {}, str(tmp_path))
    assert os.getcwd() == cwd
    assert values["f"] == "from the flow dir" and values["c"]["a"]["b"] == 1 and values["c"].a.b == 1


def test_a_config_is_not_a_run_time_parameter():
    declared = [{"name": "cfg", "attr": "cfg", "kind": "config", "has_default": True, "default": {"a": 1}}]
    with pytest.raises(params.ParamError, match="'cfg' is a Config, not a Parameter.*--config cfg PATH"):
        params.resolve(declared, {"cfg": "other.json"})
    plain = [dict(declared[0], plain=True, default="raw text")]
    assert params.resolve(plain, {}) == {"cfg": "raw text"}


def test_runner_has_no_chdir():
    import compiler.runner as runner_pkg

    base = os.path.dirname(runner_pkg.__file__)
    for dirpath, _, files in os.walk(base):
        for name in files:
            # forkserver.py runs in the task's own (forked) process: its chdir is Popen's cwd=
            if name.endswith(".py") and name != "forkserver.py":
                with open(os.path.join(dirpath, name)) as handle:
                    assert "os.chdir(" not in handle.read(), name
