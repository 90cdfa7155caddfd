"""Tests written to kill mutants of compiler/targets/ (argo, stepfunctions) that survived the
sampled mutation run (tests/README.md, "Mutation score"); the runtime and backend ones are in
tests/test_mutation_kills.py. Each names the behaviour the mutant broke."""
from __future__ import annotations


def _two_step_plan(flow_name="F", compute=None):
    from compiler.ir import Compute, FlowPlan, StepPlan
    from tests.stepfunctions import helpers as h

    steps = [StepPlan(name="start", kind="linear", next=["end"], in_=[], depth=0,
                      compute=compute or Compute(backend=None)),
             StepPlan(name="end", kind="end", next=[], in_=["start"], depth=0, compute=Compute(backend=None))]
    return FlowPlan(flow_name=flow_name, flow_file="f.py", path="f.py", start="start", end="end",
                    steps={s.name: s for s in steps}, parameters=[], settings=h.make_settings())


def test_stepfunctions_without_an_s3_datastore_names_what_it_got_and_the_fix():
    from types import SimpleNamespace

    from compiler.targets.stepfunctions.check import settings_problems

    fix = "; set FLOWC_DATASTORE=s3://bucket/prefix"
    [none] = settings_problems(SimpleNamespace(schedule=None), SimpleNamespace(datastore=None))
    assert none.message == "the stepfunctions target needs an s3:// datastore (got none)" + fix
    [local] = settings_problems(SimpleNamespace(schedule=None), SimpleNamespace(datastore="file:///tmp/x"))
    assert local.message == "the stepfunctions target needs an s3:// datastore (got file:///tmp/x)" + fix
    assert settings_problems(SimpleNamespace(schedule=None), SimpleNamespace(datastore="s3://b/p")) == []


def test_the_embedded_package_limit_is_exactly_a_configmaps_mebibyte():
    """argo/check.CONFIGMAP_LIMIT: a package of 1 MiB fits the ConfigMap, one byte more is FC
    PACKAGE_TOO_LARGE naming both sizes (Kubernetes refuses a ConfigMap above 1 MiB)."""
    import os

    from compiler.targets.argo import ArgoTarget
    from compiler.targets.argo import codes as argo_codes
    from compiler.targets.base import CodePackageRef
    from tests.argo.helpers import plan_of, settings, shared_flows

    plan = plan_of(os.path.join(os.path.dirname(shared_flows()[0]), "hello.py"), settings())

    def too_large(size):
        diags = ArgoTarget().check(plan, CodePackageRef(b"x" * size, "0" * 64))
        return [d.message for d in diags if d.code == argo_codes.PACKAGE_TOO_LARGE]

    assert too_large(1024 * 1024) == []
    [message] = too_large(1024 * 1024 + 1)
    assert message.startswith("the code package is 1048577 bytes; a ConfigMap holds at most 1048576: ")


def test_every_cron_descriptor_is_accepted_and_others_are_named():
    """argo/cron._DESCRIPTORS: the seven descriptors Argo's cron library knows pass; another
    @word is refused by name."""
    from compiler.targets.argo.cron import parse_problem

    for descriptor in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"):
        assert parse_problem(descriptor) is None, descriptor
        assert parse_problem("CRON_TZ=Europe/Paris " + descriptor) is None, descriptor
    assert parse_problem("@fortnightly") == "unrecognized descriptor: @fortnightly"


def test_job_definition_name_limit_counts_the_content_hash():
    """stepfunctions/check.name_problems: flowc-<flow>-<12-character hash> must fit AWS Batch's 128
    characters, so a flow name of 109 characters fits and 110 is refused with the full length."""
    from compiler.targets.stepfunctions.check import name_problems

    def job_name_problems(flow_name):
        return [d.message for d in name_problems(_two_step_plan(flow_name))
                if d.message.startswith("job definition name")]

    assert job_name_problems("F" * 109) == []
    [message] = job_name_problems("F" * 110)
    assert "<12-character hash> has 129 characters (AWS allows 128)" in message


def test_an_unreadable_includefile_default_is_named_with_the_reason(tmp_path):
    """argo/arguments.include_file_content: a default file that cannot be read -> no content and
    a problem naming the parameter, the path and the OS reason."""
    from types import SimpleNamespace

    from compiler.targets.argo.arguments import include_file_content

    flow = tmp_path / "flow.py"
    (tmp_path / "data.txt").write_text("hello")
    param = SimpleNamespace(name="data", default="data.txt", encoding=None, is_text=True)
    assert include_file_content(str(flow), param) == ("hello", None)
    missing = SimpleNamespace(name="data", default="missing.txt", encoding=None, is_text=True)
    assert include_file_content(str(flow), missing) == (
        None, "IncludeFile 'data': cannot read its default 'missing.txt': No such file or directory")


def test_argo_trigger_without_a_datastore_says_why():
    import os

    from compiler import settings as S
    from compiler.pipeline import compile_file

    flows = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows", "triggers")
    result = compile_file(os.path.join(flows, "event_flow.py"), "argo", settings=S.resolve({}, flow_dir="/", environ={}))
    [error] = [d for d in result.diagnostics if d.is_error]
    assert (error.code, error.message) == ("FC330", "@trigger / @trigger_on_finish need a datastore setting: the "
                                                    "Sensor's Workflows get no flowc-datastore argument")


def test_workflow_timeout_bounds_the_whole_run_on_both_targets():
    """The workflow_timeout setting: Step Functions' top-level TimeoutSeconds, Argo's
    spec.activeDeadlineSeconds; unset, neither is there."""
    import json
    import os

    from tests.argo import helpers as argo_h
    from tests.stepfunctions import helpers as sfn_h

    path = os.path.join(sfn_h.SHARED_VALID, "hello.py")
    files, _ = sfn_h.emit(path, sfn_h.make_settings(workflow_timeout=3600))
    assert json.loads(files[0].content)["TimeoutSeconds"] == 3600
    files, _ = sfn_h.emit(path)
    assert "TimeoutSeconds" not in json.loads(files[0].content)

    def template_spec(st):
        [spec] = [d["spec"] for d in argo_h.documents(path, st) if d["kind"] == "WorkflowTemplate"]
        return spec

    assert template_spec(argo_h.settings(workflow_timeout=3600))["activeDeadlineSeconds"] == 3600
    assert "activeDeadlineSeconds" not in template_spec(argo_h.settings())


def test_the_schedule_targets_the_state_machine_in_the_configured_region_and_account():
    """stepfunctions.schedule_request: the Scheduler target ARN is built from aws_region (default
    us-east-1) and the account of sfn_role_arn."""
    from types import SimpleNamespace

    from compiler.targets.stepfunctions import schedule_request

    plan = SimpleNamespace(flow_name="F", schedule=SimpleNamespace(cron="0 * * * *", timezone=None))
    role = "arn:aws:iam::123456789012:role/r"
    target = schedule_request(plan, SimpleNamespace(aws_region="eu-west-1", sfn_role_arn=role), "F")["Target"]
    assert target == {"Arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:F", "RoleArn": role, "Input": "{}"}
    target = schedule_request(plan, SimpleNamespace(aws_region=None, sfn_role_arn=role), "F")["Target"]
    assert target["Arn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:F"


def test_a_key_ending_in_dollar_is_named_by_what_it_keys():
    """stepfunctions/check.name_problems: a key ending with '.$' in any of a step's key/value
    options would be read as a path; the diagnostic says which option holds it."""
    from compiler.ir import Compute
    from compiler.targets.stepfunctions.check import name_problems

    pair = (("k.$", "v"),)
    cases = {"label": Compute(backend="kubernetes", labels=pair),
             "annotation": Compute(backend="kubernetes", annotations=pair),
             "node selector": Compute(backend="kubernetes", node_selector=pair),
             "extended resource": Compute(backend="kubernetes", extended_resources=pair),
             "security context": Compute(backend="kubernetes", security_context=pair),
             "Batch tag": Compute(backend="batch", batch_tags=pair)}
    for what, compute in cases.items():
        [message] = [d.message for d in name_problems(_two_step_plan(compute=compute)) if "'.$'" in d.message]
        assert message == (f"step 'start': {what} key 'k.$' ends with '.$', which Step Functions would "
                           "evaluate as a path"), what


def test_includefile_defaults_too_large_or_in_another_encoding(tmp_path):
    """argo/arguments.include_file_content: above INLINE_LIMIT (and for bytes) the argument names
    the packaged file; a declared encoding is the one used to read the file (utf-8 when none is
    declared), and text that is not in it is named."""
    from types import SimpleNamespace

    from compiler.targets.argo.arguments import INLINE_LIMIT, include_file_content
    from runtime_shim.params import PACKAGED_FILE

    flow = str(tmp_path / "flow.py")
    (tmp_path / "big.txt").write_bytes(b"x" * (INLINE_LIMIT + 1))
    (tmp_path / "fits.txt").write_bytes(b"x" * INLINE_LIMIT)
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    big = SimpleNamespace(name="data", default="big.txt", encoding=None, is_text=True)
    assert include_file_content(flow, big) == (PACKAGED_FILE + "big.txt", None)
    fits = SimpleNamespace(name="data", default="fits.txt", encoding=None, is_text=True)
    assert include_file_content(flow, fits) == ("x" * INLINE_LIMIT, None)
    binary = SimpleNamespace(name="data", default="latin.txt", encoding=None, is_text=False)
    assert include_file_content(flow, binary) == (PACKAGED_FILE + "latin.txt", None)
    latin = SimpleNamespace(name="data", default="latin.txt", encoding="latin-1", is_text=True)
    assert include_file_content(flow, latin) == ("café", None)
    as_utf8 = SimpleNamespace(name="data", default="latin.txt", encoding=None, is_text=True)
    assert include_file_content(flow, as_utf8)[1] == (
        "IncludeFile 'data': 'latin.txt' is not utf-8 text (is_text=False reads bytes)")


def test_a_bad_label_key_is_named_on_the_step():
    from compiler.ir import Compute
    from compiler.targets.argo.check import kubernetes_name_problems

    plan = _two_step_plan(compute=Compute(backend="kubernetes", labels=(("bad key!", "v"),)))
    messages = [d.message for d in kubernetes_name_problems(plan.steps["start"], plan.settings)]
    assert messages == ["step start: label key 'bad key!' is not a valid Kubernetes label key"]


def test_a_cron_workflow_allows_concurrent_runs_unless_told_otherwise():
    from types import SimpleNamespace

    from compiler.targets.argo.cron import cron_workflow

    def policy(value):
        plan = SimpleNamespace(flow_name="F", project=None, schedule=SimpleNamespace(cron="0 * * * *", timezone=None),
                               settings=SimpleNamespace(argo_version=None, concurrency_policy=value))
        return cron_workflow(plan, "f", {})["spec"]["concurrencyPolicy"]

    assert policy(None) == "Allow"
    assert policy("Forbid") == "Forbid"


def test_nesting_deeper_than_step_functions_takes_is_named():
    import dataclasses

    from compiler.targets.stepfunctions import codes as sfn_codes
    from compiler.targets.stepfunctions.check import step_problems

    plan = _two_step_plan()
    deep = dataclasses.replace(plan.steps["end"], split_parents=["s%d" % i for i in range(sfn_codes.MAX_NESTING + 1)])
    plan.steps["end"] = deep
    [message] = [d.message for d in step_problems(plan, plan.settings) if d.code == sfn_codes.NESTED_TOO_DEEP]
    assert message == ("step 'end' sits 101 splits deep; a state machine nests a Parallel or Map state per level "
                       "and flowc emits at most 100")
    plan.steps["end"] = dataclasses.replace(deep, split_parents=deep.split_parents[:-1])
    assert [d for d in step_problems(plan, plan.settings) if d.code == sfn_codes.NESTED_TOO_DEEP] == []


def test_a_step_named_like_an_expression_word_gets_another_task_name():
    """argo/dag.EXPR_RESERVED: Argo's expression parser reads these words as operators or
    literals, so a step named like one must not be a task name inside `depends`."""
    from compiler.targets.argo.dag import EXPR_RESERVED
    from compiler.targets.argo.names import Namespace

    words = ("not", "in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else",
             "true", "false", "nil")
    for word in words:
        assert Namespace(reserved=EXPR_RESERVED).add(word) != word, word
    assert Namespace(reserved=EXPR_RESERVED).add("train") == "train"


def test_label_key_prefixes_must_be_short_dns_subdomains():
    from compiler.targets.argo.names import is_label_key

    assert is_label_key("example.com/name") and is_label_key("name")
    assert not is_label_key("Bad_Prefix!/name")
    assert not is_label_key("a" * 254 + "/name")
    assert is_label_key(".".join(["a" * 63] * 3) + "/name")   # 191 characters, valid
    assert is_label_key("a" * 63) and not is_label_key("a" * 64)


def test_the_step_image_is_the_one_checked_else_the_settings_image():
    from types import SimpleNamespace

    from compiler.ir import Compute
    from compiler.targets.argo.check import template_strings

    plan = _two_step_plan(compute=Compute(backend="kubernetes", image="step/image:1"))
    strings = dict(template_strings(plan.steps["start"], SimpleNamespace(image="settings/image:2")))
    assert strings["image"] == "step/image:1"
    plan = _two_step_plan(compute=Compute(backend="kubernetes", image=""))
    strings = dict(template_strings(plan.steps["start"], SimpleNamespace(image="settings/image:2")))
    assert strings["image"] == "settings/image:2"
    plan = _two_step_plan(compute=Compute(backend="batch", log_driver="awslogs", log_options=(("k", "v"),)))
    strings = template_strings(plan.steps["start"], SimpleNamespace(image=None))
    assert ("log driver", "awslogs") in strings and ("log option", "k:v") in strings


def test_a_parameter_whose_default_is_none_has_no_argument_default():
    from types import SimpleNamespace

    from compiler.targets.argo.arguments import parameter_value

    def param(**kw):
        return SimpleNamespace(**{"kind": "str", "has_default": True, "default": "x", "required": False, **kw})

    assert parameter_value(param()) == "x"
    assert (parameter_value(param(default=True)), parameter_value(param(default=False))) == ("true", "false")
    assert parameter_value(param(default=None)) is None
    assert parameter_value(param(has_default=False, default=None)) is None
    assert parameter_value(param(required=True)) is None


def test_a_definition_of_exactly_the_limit_fits():
    from compiler.targets.stepfunctions import codes as sfn_codes
    from compiler.targets.stepfunctions.check import size_problems

    def too_large(size):
        definition = {"States": {}, "x": "a" * (size - len('{"States":{},"x":""}'))}
        return [d.message for d in size_problems(_two_step_plan(), definition)
                if d.code == sfn_codes.DEFINITION_TOO_LARGE]

    assert too_large(sfn_codes.MAX_DEFINITION_BYTES) == []
    [message] = too_large(sfn_codes.MAX_DEFINITION_BYTES + 1)
    assert message.startswith(f"the state machine definition is {sfn_codes.MAX_DEFINITION_BYTES + 1} bytes")


def test_step_functions_exit_hooks_name_their_event_and_functions():
    """stepfunctions/asl.with_exit_hooks: the error hook job runs `hook --event error` with the
    on_error functions, the success hook `--event success` with the on_success ones."""
    import json
    import os

    from tests.stepfunctions import helpers as h

    files, _ = h.emit(os.path.join(h.ROOT, "tests", "flows", "deco", "exit_hook_flow.py"))
    states = json.loads(files[0].content)["States"]

    def command(state):   # States.Array('python', ..., 'hook', '--run-id', $.run, '--event', ...)
        return states[state]["Parameters"]["ContainerOverrides"]["Command.$"]

    assert command("ExitHookError").endswith("'hook', '--run-id', $.run, '--event', 'error', '--function', 'notify')")
    assert command("ExitHookSuccess").endswith(
        "'hook', '--run-id', $.run, '--event', 'success', '--function', 'celebrate')")
    assert states["Run"]["Next"] == "ExitHookSuccess" and states["ExitHookSuccess"]["End"] is True
    assert states["Run"]["Catch"][0]["Next"] == "ExitHookError" and states["ExitHookError"]["Next"] == "RunFailed"
    assert states["RunFailed"] == {"Type": "Fail", "Error": "FlowFailed", "Cause": "a step failed; the exit hooks ran"}


def test_argo_workflows_reach_the_configured_s3_endpoint():
    import os

    from tests.argo import helpers as argo_h

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows", "shared", "valid", "hello.py")

    def endpoint_env(st):
        [spec] = [d["spec"] for d in argo_h.documents(path, st) if d["kind"] == "WorkflowTemplate"]
        return [e for e in spec["templateDefaults"]["container"]["env"]
                if e["name"] in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")]

    assert endpoint_env(argo_h.settings(s3_endpoint="http://127.0.0.1:9000", aws_region="eu-west-1")) == [
        {"name": "AWS_ENDPOINT_URL", "value": "http://127.0.0.1:9000"},
        {"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"}]
    assert endpoint_env(argo_h.settings()) == []


def test_a_steps_image_pull_policy_reaches_its_container():
    from types import SimpleNamespace

    from compiler.ir import Compute
    from compiler.targets.argo.resources import apply_pod_settings

    plan = _two_step_plan(compute=Compute(backend="kubernetes", image_pull_policy="Always"))
    container: dict = {}
    apply_pod_settings({}, container, plan.steps["start"], SimpleNamespace(image=None))
    assert container["imagePullPolicy"] == "Always"
    container = {}
    apply_pod_settings({}, container, plan.steps["end"], SimpleNamespace(image=None))
    assert "imagePullPolicy" not in container


def test_image_references_with_a_registry_host():
    from compiler.targets.argo.names import is_image_reference

    for good in ("python:3.11", "ghcr.io/org/img:1", "registry.example.com:5000/team/x@sha256:" + "a" * 64,
                 "localhost:5000/x", "a-b.c/d"):
        assert is_image_reference(good), good
    for bad in ("-bad.io/x", "bad-.io/x", "Has Space", ""):
        assert not is_image_reference(bad), bad
