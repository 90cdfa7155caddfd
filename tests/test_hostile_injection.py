"""Hostile text (quotes, backticks, `$(...)`, `;`, newlines, Argo `{{...}}` tags, JSONPath,
intrinsic functions, unicode, 20 kB strings) in parameter defaults, parameter values given at run
time, @environment values and IncludeFile contents reaches the step byte-exact, and nothing runs
or expands. Checked by EXECUTING the compiled workflows: `flowc run`, the Argo executor
(tests/argo_executor, Argo's two substitution passes and the pod pass) and moto's ASL
interpreter (tests/stepfunctions/moto_sfn.py). The step stores what it received; the test reads it
back with runtime_shim.client. Where a value cannot be carried (Argo substitutes `{{` in template
strings; Kubernetes label rules) compile fails with a diagnostic instead.
"""
from __future__ import annotations

import os
import uuid

import pytest

from tests.hostile_values import CONTROL, TEMPLATES, check, hostile_flow, values

from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

N_VALUES = len(TEMPLATES)


def _given(marker, short=False, argo=False):
    return {"g%d" % i: v for i, v in enumerate(values(marker, short, argo))}


def test_flowc_run_carries_hostile_values(tmp_path):
    from runtime_shim.client import Run
    from tests.runtime_fixtures import run

    marker = str(tmp_path / "PWNED")
    path = hostile_flow(tmp_path, marker, n_given=N_VALUES)
    given = _given(marker)
    root = "file://" + str(tmp_path / "ds")
    code, rid, out = run(path, *["%s=%s" % kv for kv in given.items()], datastore=root)
    assert code == 0, out
    r = Run("HostileFlow/" + rid, datastore=root)
    check(r["start"].task.data, marker, given)
    assert r["end"].task.data.end_params == r["start"].task.data.got_params
    assert not os.path.exists(marker)


def test_argo_executor_carries_hostile_values(tmp_path):
    from runtime_shim.client import Run
    from tests.argo_executor.executor import SUCCEEDED
    from tests.argo_executor.harness import run_flow

    marker = str(tmp_path / "PWNED")
    path = hostile_flow(tmp_path, marker, n_given=N_VALUES - len(CONTROL), argo=True)
    given = _given(marker, argo=True)
    ex, root, lines = run_flow(path, tmp_path, given)
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-20:])
    r = Run("HostileFlow/" + ex.run_id, datastore="file://%s/datastore" % tmp_path)
    check(r["start"].task.data, marker, given, argo=True)
    assert not os.path.exists(marker)


def test_stepfunctions_carries_hostile_values(tmp_path, sfn_moto, monkeypatch):
    from compiler.pipeline import compile_file
    from runtime_shim.client import Run
    from tests.stepfunctions import helpers as h

    marker = str(tmp_path / "PWNED")
    path = hostile_flow(tmp_path, marker, n_given=N_VALUES, short=True)
    given = _given(marker, short=True)
    settings = h.make_settings(datastore="s3://flowc-hostile/ds", s3_endpoint=sfn_moto.endpoint,
                               batch_queue="flowc-queue", batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(path, "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="hostile-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    # a remote run passes the IncludeFile's content (the client reads the file)
    inp = dict(given, inc=open(tmp_path / "hostile.txt", encoding="utf-8", newline="").read())
    desc = sfn_moto.run(arn, run_id, inp, timeout=180)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), str(desc.get("cause"))[:2000])
    monkeypatch.setenv("AWS_ENDPOINT_URL", sfn_moto.endpoint)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    r = Run("HostileFlow/" + run_id, datastore="s3://flowc-hostile/ds")
    check(r["start"].task.data, marker, given, short=True)
    assert not os.path.exists(marker)


def test_stepfunctions_refuses_values_too_long_for_batch(tmp_path):
    from compiler.pipeline import compile_file
    from tests.stepfunctions import helpers as h

    path = hostile_flow(tmp_path, str(tmp_path / "PWNED"))
    result = compile_file(path, "stepfunctions", settings=h.make_settings(datastore="s3://b/ds"))
    assert not result.ok and "FC405" in [d.code for d in result.diagnostics]


# --- what cannot be carried fails to compile -------------------------------------------------
TAGGED = [v for v in TEMPLATES if "{{" in v]


def _compile(tmp_path, decorators, target="argo"):
    from compiler import settings as S
    from compiler.pipeline import compile_file

    src = ("from metaflow import FlowSpec, step, environment, kubernetes\n\n"
           "class TagFlow(FlowSpec):\n"
           "%s    @step\n    def start(self):\n        self.next(self.end)\n\n"
           "    @step\n    def end(self):\n        pass\n") % decorators
    path = tmp_path / "tag_flow.py"
    path.write_text(src, encoding="utf-8")
    st = S.resolve({"datastore": "s3://b/p", "batch_queue": "q"}, flow_dir=str(tmp_path), environ={})
    return compile_file(str(path), target, settings=st)


@pytest.mark.parametrize("value", TAGGED)
@pytest.mark.parametrize("where", ["environment", "annotation", "image"])
def test_argo_refuses_template_tags(tmp_path, value, where):
    deco = {"environment": "    @environment(vars={'X': %r})\n" % value,
            "annotation": "    @kubernetes(annotations={'note': %r})\n" % value,
            "image": "    @kubernetes(image=%r)\n" % value}[where]
    result = _compile(tmp_path, deco)
    assert not result.ok
    assert "FC313" in [d.code for d in result.diagnostics], [(d.code, d.message) for d in result.diagnostics]


@pytest.mark.parametrize("value", TAGGED[:3])
def test_stepfunctions_carries_tags_literally(tmp_path, value):
    """ASL never substitutes `{{`: the value is a literal Environment entry (no `.$` key)."""
    import json

    result = _compile(tmp_path, "    @environment(vars={'X': %r})\n" % value, target="stepfunctions")
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    asl = json.loads(next(f.content for f in result.files if f.name.endswith(".asl.json")))
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "Environment":
                    found.extend(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(asl)
    assert {"Name": "X", "Value": value} in found


@pytest.mark.parametrize("value", ["data science", "a;b", "$(touch x)", "x" * 64, "{{workflow.name}}",
                                   "-lead", "é"])
def test_bad_label_values_fail_to_compile(tmp_path, value):
    result = _compile(tmp_path, "    @kubernetes(labels={'team': %r})\n" % value)
    assert not result.ok
    assert "FC302" in [d.code for d in result.diagnostics]


# --- Argo carries control characters (values travel base64); only non-UTF-8 text is refused ----
def _ctl_flow(tmp_path, value):
    path = tmp_path / "ctl_flow.py"
    path.write_text("from metaflow import FlowSpec, Parameter, step\n\nclass CtlFlow(FlowSpec):\n"
                    "    x = Parameter('x', default=%r)\n\n    @step\n    def start(self):\n"
                    "        self.got = self.x\n        self.next(self.end)\n\n    @step\n    def end(self):\n"
                    "        pass\n" % value, encoding="utf-8", errors="surrogateescape")
    return str(path)


def test_argo_refuses_non_utf8_defaults(tmp_path):
    from compiler import settings as S
    from compiler.pipeline import compile_file

    st = S.resolve({"datastore": "s3://b/p"}, flow_dir=str(tmp_path), environ={})
    result = compile_file(_ctl_flow(tmp_path, "lone surrogate \udc80"), "argo", settings=st)
    assert not result.ok and "FC314" in [d.code for d in result.diagnostics], \
        [(d.code, d.message) for d in result.diagnostics]


@pytest.mark.parametrize("value", CONTROL + ["nul-free but DEL \x7f"])
def test_argo_control_character_defaults_arrive_byte_exact(tmp_path, value):
    from runtime_shim.client import Run
    from tests.argo_executor.executor import SUCCEEDED
    from tests.argo_executor.harness import run_flow

    ex, root, lines = run_flow(_ctl_flow(tmp_path, value), tmp_path)
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-20:])
    assert Run("CtlFlow/" + ex.run_id, datastore="file://%s/datastore" % tmp_path)["start"].task.data.got == value


@pytest.mark.parametrize("value", CONTROL)
def test_argo_value_given_at_submission_arrives_byte_exact(tmp_path, value):
    """Given at submission (`argo submit -p`), even a value Argo could not substitute as text
    arrives byte-exact: the start step receives it base64-encoded by an expression tag."""
    from runtime_shim.client import Run
    from tests.argo_executor.executor import SUCCEEDED
    from tests.argo_executor.harness import run_flow

    marker = str(tmp_path / "PWNED")
    path = hostile_flow(tmp_path, marker, n_given=1, argo=True, env=False, include=False)
    ex, root, lines = run_flow(path, tmp_path, {"g0": value})
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-20:])
    r = Run("HostileFlow/" + ex.run_id, datastore="file://%s/datastore" % tmp_path)
    assert r["start"].task.data.got_given == {"g0": value}


def test_argo_trigger_refuses_non_utf8_values():
    from compiler.deploy import DeployError
    from compiler.deploy.argo import trigger

    with pytest.raises(DeployError, match="FC314"):
        trigger("tmpl", {"x": "lone surrogate \udc80"}, settings=None)


def test_executor_substitutes_twice_like_argo():
    """workflow/common/util.go SubstituteParams: pass 1 (globals) over the template JSON, pass 2
    (inputs) over pass 1's output, then substitutePodParams once more: a value inserted by one pass
    is evaluated by the next; an expression tag evaluated in pass 1 to base64 is final."""
    from tests.argo_executor.substitution import SubstitutionError, replace, substitute_params

    globals_ = {"workflow.name": "wf-1", "workflow.parameters.v": "{{workflow.name}} {{=1+1}}"}
    t = {"name": "t", "inputs": {"parameters": [{"name": "x", "value": "{{workflow.name}}"}]},
         "container": {"args": ["{{workflow.parameters.v}}", "{{inputs.parameters.x}}",
                                "{{=sprig.b64enc(workflow.parameters['v'])}}"]}}
    out = substitute_params(t, globals_, {})
    assert out["container"]["args"][:2] == ["wf-1 2", "wf-1"]
    import base64
    assert base64.b64decode(out["container"]["args"][2]).decode() == "{{workflow.name}} {{=1+1}}"
    # a tag runs to the first `}}`; unknown tags and failing expressions stay (allowUnresolved)
    assert replace('"{{a{{y}} {{nope}} {{=sprig.env(1)}}"', {"y": "Y"}) == '"{{aY {{nope}} {{=sprig.env(1)}}"'
    with pytest.raises(SubstitutionError):
        replace('"a {{ y"', {})       # fasttemplate: no end tag


@pytest.mark.parametrize("image", ["python:3.11; touch /tmp/pwned", "$(touch /tmp/pwned)", "`id`", "img:1\nx",
                                   "Python:3.11", "python:3.11 --privileged", "img'x", "a" * 600])
def test_argo_refuses_invalid_image_references(tmp_path, image):
    result = _compile(tmp_path, "    @kubernetes(image=%r)\n" % image)
    assert not result.ok and "FC302" in [d.code for d in result.diagnostics], \
        [(d.code, d.message) for d in result.diagnostics]


def test_argo_annotations_and_env_are_byte_exact_in_valid_documents(tmp_path):
    """Annotations and @environment values Argo can carry (no `{{`) are in the compiled documents
    byte-exact, and the documents stay valid for the strict schema and Hera's strict models."""
    import yaml

    from tests.argo.validate import validate_all

    vals = [v for v in values(str(tmp_path / "PWNED")) if "{{" not in v]
    annotations = {"example.com/note-%d" % i: v for i, v in enumerate(vals)}
    env = {"E%d" % i: v for i, v in enumerate(vals)}
    result = _compile(tmp_path, "    @kubernetes(annotations=%r)\n    @environment(vars=%r)\n" % (annotations, env))
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    docs = [d for f in result.files for d in yaml.safe_load_all(f.content)]
    for d in docs:
        validate_all(d)
    wt = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    start = next(t for t in wt["spec"]["templates"] if t.get("container") and "start" in t["container"]["args"])
    assert start["metadata"]["annotations"] == annotations
    assert {e["name"]: e["value"] for e in start["container"]["env"]} == env


NAMES = ["x y'\"", "{{workflow.name}}", "States.Format('{}', $.run)", "$.run", "a.$b", "é-名前", "--param"]
NAMED_FLOW = '''
from metaflow import FlowSpec, Parameter, step


class NamedFlow(FlowSpec):
%s

    @step
    def start(self):
        self.got = [%s]
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _named_flow(tmp_path):
    params = "\n".join("    p%d = Parameter(%r, default=%r)" % (i, n, "$$.Execution.Input") for i, n in enumerate(NAMES))
    path = tmp_path / "named_flow.py"
    path.write_text(NAMED_FLOW % (params, ", ".join("self.p%d" % i for i in range(len(NAMES)))), encoding="utf-8")
    return str(path)


def test_hostile_parameter_names_carry_literal_defaults_on_stepfunctions(tmp_path, sfn_moto, monkeypatch):
    """Parameter names are JSON keys in the Pass state's Parameters: none of these may turn its
    default ("$$.Execution.Input") into a path; executed on moto's ASL interpreter."""
    from compiler.pipeline import compile_file
    from runtime_shim.client import Run
    from tests.stepfunctions import helpers as h

    path = _named_flow(tmp_path)
    settings = h.make_settings(datastore="s3://flowc-hostile/ds", s3_endpoint=sfn_moto.endpoint,
                               batch_queue="flowc-queue", batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(path, "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="named-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    desc = sfn_moto.run(arn, run_id, {}, timeout=120)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), str(desc.get("cause"))[:2000])
    monkeypatch.setenv("AWS_ENDPOINT_URL", sfn_moto.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    r = Run("NamedFlow/" + run_id, datastore="s3://flowc-hostile/ds")
    assert r["start"].task.data.got == ["$$.Execution.Input"] * len(NAMES)


@pytest.mark.parametrize("deco", [
    "    x = Parameter('limit.$', default='$$.Execution.Input')\n",
    "    @kubernetes(annotations={'note.$': '$$.Execution.Input'})\n",
    "    @kubernetes(labels={'team.$': 'x'})\n",
])
def test_stepfunctions_refuses_path_keys(tmp_path, deco):
    from compiler import settings as S
    from compiler.pipeline import compile_file

    src = ("from metaflow import FlowSpec, Parameter, kubernetes, step\n\nclass PathFlow(FlowSpec):\n"
           "%s    @step\n    def start(self):\n        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    if deco.startswith("    x ="):
        src = src % (deco + "\n")
    else:
        src = src.replace("    @step\n    def start", deco + "    @step\n    def start") % ""
    path = tmp_path / "path_flow.py"
    path.write_text(src)
    st = S.resolve({"datastore": "s3://b/p", "batch_queue": "q", "eks_cluster": "c"}, flow_dir=str(tmp_path), environ={})
    result = compile_file(str(path), "stepfunctions", settings=st)
    assert not result.ok and "FC410" in [d.code for d in result.diagnostics], \
        [(d.code, d.message) for d in result.diagnostics]
