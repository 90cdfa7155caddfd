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


def test_s3_addresses_on_aws_virtual_hosted_or_path_style_for_dotted_buckets():
    """s3lite._target without an endpoint override (the tests always set one): a bucket with a dot
    cannot be a TLS host name, so it goes path style to the regional endpoint."""
    from runtime_shim.s3lite import S3Lite

    s3 = S3Lite("eu-west-1", None)
    assert s3._target("my-bucket", "a b/c") == ("https", "my-bucket.s3.eu-west-1.amazonaws.com", "/a%20b/c")
    assert s3._target("my.bucket", "k") == ("https", "s3.eu-west-1.amazonaws.com", "/my.bucket/k")
    assert S3Lite("eu-west-1", None, "http://127.0.0.1:9/base/")._target("b", "k") == ("http", "127.0.0.1:9", "/base/b/k")
