"""Tests written to kill mutants that survived the sampled mutation run (tests/README.md,
"Mutation score"): each names the behaviour the mutant broke."""
from __future__ import annotations

from runtime_shim.datastore import FlowDatastore
from tests.runtime_fixtures import file_root


def _task(ds, run, step, task):
    ds.write_task({"run_id": run, "step": step, "task_id": task, "attempt": 0, "artifacts": {},
                   "num_splits": None, "branch": None})


def test_listing_runs_steps_and_tasks_of_a_flow(tmp_path):
    """datastore.list_runs/list_steps/list_tasks (the client's Flow/Run/Step iteration) read the
    flow's own runs folder, and another flow's runs never show."""
    ds = FlowDatastore(file_root(tmp_path), "F")
    other = FlowDatastore(file_root(tmp_path), "G")
    _task(ds, "r1", "start", "t-0")
    _task(ds, "r1", "end", "t-1")
    _task(ds, "r2", "start", "t-0")
    _task(other, "r9", "start", "t-0")
    assert sorted(ds.list_runs()) == ["r1", "r2"]
    assert sorted(ds.list_steps("r1")) == ["end", "start"]
    assert sorted(ds.list_tasks("r1", "end")) == ["t-1"]
    assert sorted(other.list_runs()) == ["r9"]


def test_a_bad_run_id_is_named_with_the_allowed_characters():
    import pytest

    from runtime_shim.task import UsageError, parse_args

    with pytest.raises(UsageError, match=r"^bad --run-id 'r/1': use \[A-Za-z0-9\._-\]\+$"):
        parse_args(["--datastore", "file:///tmp/x", "--run-id", "r/1", "--step", "start"])


def test_a_secret_source_of_another_type_is_refused_and_no_type_means_secrets_manager():
    import pytest

    from runtime_shim.secrets import SecretError, _source_id

    assert _source_id({"id": "db"}) == "db"
    assert _source_id({"id": "db", "type": "aws-secrets-manager"}) == "db"
    with pytest.raises(SecretError, match=r"^secret source type 'vault' is not supported \(aws-secrets-manager is\)$"):
        _source_id({"id": "db", "type": "vault"})


def test_the_boto3_fallback_assumes_the_role_only_when_one_is_given(monkeypatch):
    """A profile-only credential source (boto3 reads it): no role -> Secrets Manager with those
    credentials; a role -> STS AssumeRole first, then Secrets Manager with the role's keys."""
    from runtime_shim import awslite, secrets

    def need_boto3(*args, **kwargs):
        raise awslite.NeedBoto3("a profile is configured")

    calls = []

    class Sts:
        def assume_role(self, RoleArn, RoleSessionName):   # noqa: N803 - boto3's argument names
            calls.append(("assume_role", RoleArn))
            return {"Credentials": {"AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "ST"}}

    def boto3_client(service, reason, **kwargs):
        calls.append((service, kwargs))
        return Sts() if service == "sts" else object()

    monkeypatch.setattr(awslite, "client", need_boto3)
    monkeypatch.setattr(awslite, "boto3_client", boto3_client)
    secrets._client()
    assert calls == [("secretsmanager", {})]
    calls.clear()
    secrets._client("arn:aws:iam::1:role/r")
    assert calls == [("sts", {}), ("assume_role", "arn:aws:iam::1:role/r"),
                     ("secretsmanager", {"aws_access_key_id": "AK", "aws_secret_access_key": "SK",
                                         "aws_session_token": "ST"})]


def test_long_job_names_are_cut_with_a_hash_and_stay_distinct():
    import re

    from compiler.runner.backends import job_name

    a = job_name("flowc", "f" * 40, "run", "step-a", "t-1", "a0")
    b = job_name("flowc", "f" * 40, "run", "step-b", "t-1", "a0")
    assert a != b and len(a) == len(b) == 63
    assert a.startswith("flowc-" + "f" * 40) and re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{8}", a)
    cut_on_dash = job_name("x" * 53, "tail-of-it")         # the cut lands on a '-': no '--' before the hash
    assert "--" not in cut_on_dash and len(cut_on_dash) <= 63


def test_run_options_refuse_a_run_id_that_would_leave_the_run_folder(tmp_path):
    """datastore._RUN_ID_CHARS: the run-options record is keyed by the run id, so an id holding
    '/' (or '..') must be refused before it becomes part of a storage key."""
    import pytest

    from runtime_shim.datastore import DatastoreError

    ds = FlowDatastore(file_root(tmp_path), "F")
    ds.write_run_options("r-1.a_b", {"tags": ["x"]})
    assert ds.read_run_options("r-1.a_b") == {"tags": ["x"]}
    for bad in ("a/../../b", "r 1", "..", ""):
        with pytest.raises(DatastoreError, match=r"^bad run id .*: use \[A-Za-z0-9\._-\]\+$"):
            ds.write_run_options(bad, {})


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


def test_every_task_option_lands_on_its_own_argument():
    """runtime_shim.task._OPTIONS: each --option (as `--x v` and `--x=v`) sets its own field."""
    from runtime_shim.task import _OPTIONS, parse_args

    fields = {"--spec": "spec", "--datastore": "datastore", "--run-id": "run_id", "--step": "step",
              "--index-path": "index_path", "--iteration": "iteration", "--attempt": "attempt",
              "--params-json": "params_json", "--params-file": "params_file", "--output-dir": "output_dir"}
    assert set(_OPTIONS) == set(fields)
    typed = {"--run-id": ("r1", "r1"), "--iteration": ("3", 3), "--attempt": ("2", 2), "--index-path": ("1,0", [1, 0])}
    for option, field in fields.items():
        value, parsed = typed.get(option, ("v-" + field, "v-" + field))
        base = {"--datastore": "file:///tmp/x", "--run-id": "r0", "--step": "start", option: value}
        spaced = parse_args([x for k, v in base.items() for x in (k, v)])
        joined = parse_args(["%s=%s" % kv for kv in base.items()])
        assert getattr(spaced, field) == getattr(joined, field) == parsed, option


def test_every_cron_descriptor_is_accepted_and_others_are_named():
    """argo/cron._DESCRIPTORS: the seven descriptors Argo's cron library knows pass; another
    @word is refused by name."""
    from compiler.targets.argo.cron import parse_problem

    for descriptor in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"):
        assert parse_problem(descriptor) is None, descriptor
        assert parse_problem("CRON_TZ=Europe/Paris " + descriptor) is None, descriptor
    assert parse_problem("@fortnightly") == "unrecognized descriptor: @fortnightly"


def _two_step_plan(flow_name="F", compute=None):
    from compiler.ir import Compute, FlowPlan, StepPlan
    from tests.stepfunctions import helpers as h

    steps = [StepPlan(name="start", kind="linear", next=["end"], in_=[], depth=0,
                      compute=compute or Compute(backend=None)),
             StepPlan(name="end", kind="end", next=[], in_=["start"], depth=0, compute=Compute(backend=None))]
    return FlowPlan(flow_name=flow_name, flow_file="f.py", path="f.py", start="start", end="end",
                    steps={s.name: s for s in steps}, parameters=[], settings=h.make_settings())


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


def test_a_backend_setting_is_read_or_named_with_its_flag_and_variable():
    """backends.require: a set value is returned; a missing one (or no settings at all) is a
    BackendError naming the --flag and the FLOWC_ variable."""
    from types import SimpleNamespace

    import pytest

    from compiler.runner.backends import BackendError, require

    assert require(SimpleNamespace(batch_queue="q1"), "batch_queue", "Batch steps") == "q1"
    for settings in (SimpleNamespace(batch_queue=None), None):
        with pytest.raises(BackendError, match=r"^setting batch_queue is not set \(Batch steps\): "
                                               r"pass --batch-queue or set FLOWC_BATCH_QUEUE$"):
            require(settings, "batch_queue", "Batch steps")


def test_a_profile_without_boto3_names_the_credential_sources_that_work(monkeypatch):
    """s3lite.client: credentials that need boto3 (a profile) on a stdlib-only Python are refused
    with the sources the runtime reads itself."""
    import pytest

    from runtime_shim import awslite, s3lite

    def need_boto3():
        raise awslite.NeedBoto3("a profile is configured")

    monkeypatch.delenv("FLOWC_S3_CLIENT", raising=False)
    monkeypatch.setattr(awslite, "region", lambda: "eu-west-1")
    monkeypatch.setattr(awslite, "credentials", need_boto3)
    monkeypatch.setattr(s3lite, "_has_boto3", lambda: False)
    with pytest.raises(awslite.NoCredentials, match=r"^an AWS profile or shared credentials file is configured, "
                       r"which needs boto3; this container has none \(use environment, web identity, "
                       r"container or instance credentials\)$"):
        s3lite.client()


def test_the_batch_backend_without_a_session_makes_one_from_the_settings(monkeypatch):
    """backends/batch: no injected session (the tests always inject moto's) -> compute.aws.session
    built from the run's settings, whose batch and logs clients the backend uses."""
    from types import SimpleNamespace

    from compiler.compute import aws
    from compiler.runner.backends.batch import BatchBackend

    made = []

    class Session:
        def client(self, service):
            return "client:" + service

    def session(settings):
        made.append(settings)
        return Session()

    monkeypatch.setattr(aws, "session", session)
    settings = SimpleNamespace(aws_region="eu-west-1")
    backend = BatchBackend(settings, "F", "0" * 64, "s3://b/p")
    assert made == [settings]
    assert (backend.batch, backend.logs) == ("client:batch", "client:logs")


def test_an_unreadable_includefile_default_is_named_with_the_reason(tmp_path):
    """argo/arguments.include_file_content: a default file that cannot be read -> no content and
    a problem naming the parameter, the path and the OS reason."""
    from types import SimpleNamespace

    from compiler.targets.argo.arguments import include_file_content

    flow = tmp_path / "flow.py"
    (tmp_path / "data.txt").write_text("hello")
    param = SimpleNamespace(name="data", default="data.txt", encoding=None)
    assert include_file_content(str(flow), param) == ("hello", None)
    missing = SimpleNamespace(name="data", default="missing.txt", encoding=None)
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


def test_a_batch_step_takes_its_own_queue_else_the_settings_else_is_named():
    """backends/batch.queue_of: @batch(queue=...) first, then the batch_queue setting; with
    neither, a BackendError naming the step."""
    from types import SimpleNamespace

    import pytest

    from compiler.ir import Compute, StepPlan
    from compiler.runner.backends import BackendError
    from compiler.runner.backends.batch import BatchBackend

    class Session:
        def client(self, service):
            return None

    def step(queue):
        return StepPlan(name="train", kind="linear", next=["end"], in_=["start"], depth=0,
                        compute=Compute(backend="batch", queue=queue))

    with_setting = BatchBackend(SimpleNamespace(batch_queue="q-settings"), "F", "0" * 64, "s3://b/p", session=Session())
    assert with_setting.queue_of(step("q-step")) == "q-step"
    assert with_setting.queue_of(step(None)) == "q-settings"
    without = BatchBackend(SimpleNamespace(batch_queue=None), "F", "0" * 64, "s3://b/p", session=Session())
    with pytest.raises(BackendError, match=r"^setting batch_queue is not set \(step train runs on AWS Batch "
                                           r"without @batch\(queue=\.\.\.\)\): pass --batch-queue"):
        without.queue_of(step(None))


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
    """argo/arguments.include_file_content: above INCLUDE_LIMIT the problem names both sizes; a
    declared encoding is the one used to read the file (utf-8 when none is declared)."""
    from types import SimpleNamespace

    from compiler.targets.argo.arguments import INCLUDE_LIMIT, include_file_content

    flow = str(tmp_path / "flow.py")
    (tmp_path / "big.txt").write_bytes(b"x" * (INCLUDE_LIMIT + 1))
    (tmp_path / "latin.txt").write_bytes("café".encode("latin-1"))
    big = SimpleNamespace(name="data", default="big.txt", encoding=None)
    assert include_file_content(flow, big) == (
        None, "IncludeFile 'data': 'big.txt' is 262145 bytes, more than 262144 fit in a workflow argument")
    latin = SimpleNamespace(name="data", default="latin.txt", encoding="latin-1")
    assert include_file_content(flow, latin) == ("café", None)
    as_utf8 = SimpleNamespace(name="data", default="latin.txt", encoding=None)
    assert include_file_content(flow, as_utf8)[1] == (
        "IncludeFile 'data': 'latin.txt' is not text; a workflow argument carries text only")


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


def test_a_batch_job_name_fits_aws_and_a_refused_submit_is_named():
    """backends/batch: the submitted jobName is cut to AWS Batch's 128 characters however long
    the flow and step names are; a SubmitJob that fails is a line naming the error, and exit 3."""
    from types import SimpleNamespace

    from compiler.ir import Compute, StepPlan
    from compiler.runner.backends import RemoteTask
    from compiler.runner.backends.batch import BatchBackend

    class Batch:
        def submit_job(self, **request):
            raise RuntimeError("AccessDenied")

    class Session:
        def client(self, service):
            return Batch() if service == "batch" else None

    step = StepPlan(name="s" * 80, kind="linear", next=["end"], in_=["start"], depth=0,
                    compute=Compute(backend="batch", queue="q"))
    backend = BatchBackend(SimpleNamespace(batch_queue=None), "F" * 100, "0" * 64, "s3://b/p", session=Session())
    backend.definitions[step.name] = "flowc-f-0123456789ab"
    task = RemoteTask("F" * 100, "r" * 40, step, "t-" + "9" * 30, 2, ["task"])
    name = backend.submit_request(task)["jobName"]
    assert len(name) == 128
    lines = []
    assert backend.run_task(task, lines.append) == 3
    assert lines == ["cannot submit the Batch job: AccessDenied"]


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


def test_a_missing_required_task_option_is_named():
    import pytest

    from runtime_shim.task import UsageError, parse_args

    with pytest.raises(UsageError, match=r"^--run-id is required$"):
        parse_args(["--datastore", "file:///tmp/x", "--step", "start"])


def test_outputs_of_a_task_without_a_manifest_are_its_id_only():
    from compiler.runner.backends import outputs_from_datastore

    class Datastore:
        def __init__(self, manifest):
            self.manifest = manifest

        def read_manifest(self, run_id, step, task_id):
            return self.manifest

    assert outputs_from_datastore(Datastore(None), "r", "s", "t-1") == {"task_id": "t-1"}
    assert outputs_from_datastore(Datastore({"num_splits": 3}), "r", "s", "t-1") == {"task_id": "t-1", "num_splits": "3"}
    assert outputs_from_datastore(Datastore({"branch": "b"}), "r", "s", "t-1") == {"task_id": "t-1", "branch": "b"}


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


def test_batch_logs_are_read_page_after_page():
    """backends/batch._print_logs: each page's nextForwardToken is passed to the next call until
    a page brings no new events."""
    from types import SimpleNamespace

    from compiler.runner.backends.batch import BatchBackend

    pages = {None: ("t1", ["a", "b"]), "t1": ("t2", ["c"]), "t2": ("t2", [])}
    calls = []

    class Logs:
        def get_log_events(self, **kwargs):
            calls.append(kwargs.get("nextToken"))
            token, messages = pages[kwargs.get("nextToken")]
            return {"nextForwardToken": token, "events": [{"message": m + "\n"} for m in messages]}

    class Session:
        def client(self, service):
            return Logs() if service == "logs" else None

    backend = BatchBackend(SimpleNamespace(), "F", "0" * 64, "s3://b/p", session=Session())
    lines = []
    assert backend._print_logs("stream", None, lines.append) == "t2"
    assert lines == ["a", "b", "c"] and calls == [None, "t1", "t2"]


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


def test_the_kubernetes_job_runs_as_the_configured_service_account():
    """backends/kubernetes.job_manifest: k8s_service_account becomes the pod's serviceAccountName
    (IRSA / Pod Identity credentials hang on it); unset, the namespace default is used."""
    import os

    from compiler.runner.backends import RemoteTask
    from compiler.runner.backends.kubernetes import KubernetesBackend
    from compiler.runtime_spec import plan_for_file
    from compiler.settings import resolve

    flows = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows", "shared", "valid")

    def pod_spec(**extra):
        settings = resolve({"datastore": "s3://b/root", "k8s_namespace": "team", "image": "py:3.12", **extra},
                           environ={})
        plan, _ = plan_for_file(os.path.join(flows, "hybrid_cloud.py"), None, settings)
        backend = KubernetesBackend(settings, "HybridCloudFlow", "abc", "s3://b/c.zip", api_client=object())
        task = RemoteTask("HybridCloudFlow", "r1", plan.steps["prepare_data"], "t-2", 0, ["task"])
        return backend.job_manifest(task)["spec"]["template"]["spec"]

    assert pod_spec(k8s_service_account="flow-runner")["serviceAccountName"] == "flow-runner"
    assert "serviceAccountName" not in pod_spec()


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


def test_s3_addresses_on_aws_virtual_hosted_or_path_style_for_dotted_buckets():
    """s3lite._target without an endpoint override (the tests always set one): a bucket with a dot
    cannot be a TLS host name, so it goes path style to the regional endpoint."""
    from runtime_shim.s3lite import S3Lite

    s3 = S3Lite("eu-west-1", None)
    assert s3._target("my-bucket", "a b/c") == ("https", "my-bucket.s3.eu-west-1.amazonaws.com", "/a%20b/c")
    assert s3._target("my.bucket", "k") == ("https", "s3.eu-west-1.amazonaws.com", "/my.bucket/k")
    assert S3Lite("eu-west-1", None, "http://127.0.0.1:9/base/")._target("b", "k") == ("http", "127.0.0.1:9", "/base/b/k")


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
