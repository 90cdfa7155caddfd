"""Settings precedence (flags > FLOWC_* > [tool.flowc] > defaults, with provenance), `--with`, and
compute resolution in lowering (the IR every target reads)."""
import os
import subprocess
import sys

import pytest

from compiler.lower import WithError, parse_with
from compiler.runtime_spec import plan_for_file
from compiler.settings import SettingsError, resolve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "tests", "flows", "shared", "valid")


def _project(tmp_path, table):
    (tmp_path / "pyproject.toml").write_text("[tool.flowc]\n" + table)
    sub = tmp_path / "flows"
    sub.mkdir()
    return sub


def test_precedence_and_provenance(tmp_path):
    flow_dir = _project(tmp_path, 'image = "from-pyproject:1"\nbatch-queue = "pq"\nmax_workers = 7\n')
    env = {"FLOWC_IMAGE": "from-env:1", "FLOWC_MAX_WORKERS": "9"}
    s = resolve({"image": "from-flag:1"}, flow_dir=flow_dir, environ=env)
    assert s.image == "from-flag:1" and s.sources["image"] == "flag --image"
    assert s.max_workers == 9 and s.sources["max_workers"] == "env FLOWC_MAX_WORKERS"
    assert s.batch_queue == "pq" and "pyproject.toml" in s.sources["batch_queue"]
    assert s.pod_gc == "OnPodSuccess" and s.sources["pod_gc"] == "default"


def test_a_bad_value_names_the_setting_and_its_source(tmp_path):
    with pytest.raises(SettingsError, match="max_workers from env FLOWC_MAX_WORKERS"):
        resolve({}, flow_dir=tmp_path, environ={"FLOWC_MAX_WORKERS": "many"})


def test_show_config_prints_each_value_and_where_it_came_from(tmp_path):
    flow_dir = _project(tmp_path, 'batch_queue = "from-toml"\n')
    flow = flow_dir / "hello.py"
    flow.write_text(open(os.path.join(SHARED, "hello.py")).read())
    env = dict(os.environ, FLOWC_IMAGE="img:env")
    env.pop("FLOWC_DATASTORE", None)
    out = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(flow), "--target", "argo",
                          "--show-config", "--max-workers", "3"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines()}
    assert "img:env" in lines["image"] and "env FLOWC_IMAGE" in lines["image"]
    assert "from-toml" in lines["batch_queue"] and "[tool.flowc]" in lines["batch_queue"]
    assert "3" in lines["max_workers"] and "flag --max-workers" in lines["max_workers"]
    assert "(unset)" in lines["datastore"] and "default" in lines["datastore"]


@pytest.mark.parametrize("option,name,args", [
    ("kubernetes", "kubernetes", {}),
    ("batch:queue=q1,memory=8000", "batch", {"queue": "q1", "memory": 8000}),
    ("kubernetes:image=python:3.12,cpu=0.5", "kubernetes", {"image": "python:3.12", "cpu": 0.5}),
    ("retry:times=2", "retry", {"times": 2}),
])
def test_parse_with(option, name, args):
    spec = parse_with(option)
    assert (spec.name, spec.args) == (name, args)


@pytest.mark.parametrize("option", ["gpu", "kubernetes:cpu", "batch:=3", "Kubernetes"])
def test_bad_with_is_refused(option):
    with pytest.raises(WithError):
        parse_with(option)


def _compute(plan, step):
    c = plan.steps[step].compute
    return c.backend, c.cpu, c.memory, c.gpu


def test_resources_resolve_as_the_flow_docstring_says():
    plan, diags = plan_for_file(os.path.join(SHARED, "resources.py"))
    assert plan is not None, diags
    assert _compute(plan, "start") == (None, 1.0, 4096, 0)
    assert _compute(plan, "small") == (None, 2.0, 8000, 0)
    assert _compute(plan, "gpu_train") == ("kubernetes", 8.0, 32000, 1)    # larger of both wins
    assert plan.steps["gpu_train"].compute.disk == 20480
    on_batch = plan.steps["on_batch"].compute
    assert _compute(plan, "on_batch") == ("batch", 4.0, 16000, 2)
    assert (on_batch.queue, on_batch.image) == ("gpu-queue", "python:3.11")
    assert plan.steps["gpu_train"].env == {"MODE": "train", "THREADS": "8"}


def test_static_config_resolves_as_the_flow_docstring_says():
    plan, diags = plan_for_file(os.path.join(SHARED, "static_config.py"))
    assert plan is not None, diags
    assert _compute(plan, "prepare")[1:3] == (4.0, 8192)
    assert _compute(plan, "train")[1:] == (16.0, 65536, 1)
    assert plan.steps["train"].retry.times == 3 and plan.steps["train"].timeout_seconds == 7200
    assert plan.steps["prepare"].env == {"LEVEL": "debug"}


def test_with_attaches_only_where_no_compute_decorator_is():
    plan, _ = plan_for_file(os.path.join(SHARED, "resources.py"), with_options=("batch:queue=wq,memory=12000",))
    assert _compute(plan, "start") == ("batch", 1.0, 12000, 0)
    assert plan.steps["start"].compute.queue == "wq"
    assert _compute(plan, "small") == ("batch", 2.0, 12000, 0)          # @resources still counts
    assert _compute(plan, "gpu_train")[0] == "kubernetes"              # its own decorator stays
    assert plan.steps["on_batch"].compute.queue == "gpu-queue"


def test_a_bad_with_is_a_diagnostic_not_a_traceback():
    plan, diags = plan_for_file(os.path.join(SHARED, "hello.py"), with_options=("gpu:1",))
    assert plan is None and [d.code for d in diags] == ["FC501"]


@pytest.mark.parametrize("option,words", [
    ("batch:quue=q", "no argument 'quue'"),
    ("kubernetes:memory=lots", "memory=lots must be a number"),
    ("kubernetes:cpu=-1", "greater than 0"),
])
def test_with_arguments_are_checked_like_decorator_arguments(option, words):
    with pytest.raises(WithError, match=words):
        parse_with(option)


# --- the IR resolves every default: targets read it without fallbacks ---------------------------

def test_settings_are_a_typed_frozen_dataclass_with_one_field_per_setting():
    import dataclasses

    from compiler.settings import SPECS, Settings

    names = [f.name for f in dataclasses.fields(Settings)]
    assert names == [spec.name for spec in SPECS] + ["sources"]
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    assert types["max_workers"] is int and types["image"] is str
    s = resolve({"max_workers": "5"}, environ={})
    assert s.max_workers == 5 and getattr(s, "no_such_setting", None) is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.image = "other"   # type: ignore[misc]
    t = s.with_values(datastore="s3://b/p")
    assert (t.datastore, t.sources["datastore"], s.datastore) == ("s3://b/p", "flag", None)
    assert Settings().ttl_seconds == 604800 and Settings().sources == {}


def test_image_queue_and_roles_are_resolved_from_the_settings():
    st = resolve({"image": "team/base:2", "batch_queue": "default-q", "batch_job_role_arn": "arn:role/job",
                  "k8s_namespace": "ns"}, environ={})
    plan, diags = plan_for_file(os.path.join(SHARED, "resources.py"), None, st)
    assert plan is not None, diags
    assert plan.image == "team/base:2"
    start, on_batch, gpu = (plan.steps[n].compute for n in ("start", "on_batch", "gpu_train"))
    assert (start.image, start.queue, start.iam_role) == ("team/base:2", "default-q", "arn:role/job")
    assert (on_batch.image, on_batch.queue) == ("python:3.11", "gpu-queue")      # its own image and queue win
    assert (gpu.queue, gpu.iam_role, gpu.namespace) == (None, None, "ns")          # Kubernetes: no queue
    plan, _ = plan_for_file(os.path.join(SHARED, "resources.py"), None, resolve({}, environ={}))
    assert plan.steps["start"].compute.queue is None and plan.image == "python:3.11"   # none anywhere


def test_timeouts_carry_their_backstop_and_retries_their_defaults():
    from compiler.lower import TIMEOUT_MARGIN_SECONDS

    plan, diags = plan_for_file(os.path.join(SHARED, "retry_catch_timeout.py"))
    assert plan is not None, diags
    timed = [s for s in plan.steps.values() if s.timeout_seconds]
    assert timed and all(s.backstop_timeout_seconds == s.timeout_seconds + TIMEOUT_MARGIN_SECONDS for s in timed)
    assert all(s.backstop_timeout_seconds is None for s in plan.steps.values() if not s.timeout_seconds)
    plan, _ = plan_for_file(os.path.join(SHARED, "hello.py"), with_options=("retry",))
    assert (plan.steps["start"].retry.times, plan.steps["start"].retry.minutes_between) == (3, 2.0)


def test_parameter_default_text_is_what_a_user_would_pass():
    plan, diags = plan_for_file(os.path.join(SHARED, "parameters.py"))
    assert plan is not None, diags
    text = {p.name: p.default_text for p in plan.parameters}
    assert text["who"] is None                       # required, no default
    assert (text["alpha"], text["rounds"], text["verbose"]) == ("0.01", "3", "false")
    assert text["label-with-dash"] == "ok"
    assert text["config"] == '{"depth": 4, "tags": ["x"]}'


def test_workflow_name_parts_are_resolved_once():
    st = resolve({"branch": "feature"}, environ={})
    plan, _ = plan_for_file(os.path.join(SHARED, "scheduled.py"), None, st)
    assert plan.name_parts == ("forecasting", "test.feature", "DailyForecastFlow")
    assert plan.qualified_name == "forecasting.test.feature.DailyForecastFlow"
    plan, _ = plan_for_file(os.path.join(SHARED, "hello.py"))
    assert (plan.name_parts, plan.qualified_name) == (("HelloFlow",), "HelloFlow")


def test_lowering_imports_no_linter_and_shares_the_decorator_table():
    r = subprocess.run([sys.executable, "-c",
                        "import sys\nfrom compiler.lower import parse_with\n"
                        "parse_with('batch:queue=q,memory=8000')\n"
                        "print(sorted(m for m in sys.modules if m.startswith('compiler.frontend.lint')))"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    from compiler import decorators
    from compiler.frontend.lint import decorators as lint_decorators

    assert lint_decorators.STEP_DECORATORS is decorators.STEP_DECORATORS
    assert set(decorators.WITH_DECORATORS) <= set(decorators.STEP_DECORATORS)
    assert all(d in decorators.STEP_DECORATORS for d in decorators.COMPUTE_DECORATORS)
