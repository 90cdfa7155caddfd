"""Every way `flowc deploy/trigger/status --target argo` can be refused by the API server
(tests/k8s_double.py): each ends in one clear line naming the object, the HTTP status and the
server's reason and message, never a traceback or the client's header dump, and says what of the
previous deployment was kept."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.deploy import DeployError, RunNotFound, argo, execute
from compiler.pipeline import compile_file
from compiler.settings import resolve
from tests.k8s_double import KubeDouble, node

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "tests" / "flows" / "shared" / "valid" / "hello.py"
SCHEDULED = ROOT / "tests" / "flows" / "shared" / "valid" / "scheduled.py"


@pytest.fixture
def kube(tmp_path, monkeypatch):
    double = KubeDouble().start()
    double.nodes = [node("worker-1", cpu="16", memory="64Gi")]
    monkeypatch.setenv("KUBECONFIG", double.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="ml"))
    yield double
    double.stop()


def _settings(**flags):
    return resolve({"datastore": "file:///tmp/flowc-deploy-errors", **flags}, environ={})


def _plan(path=HELLO, settings=None):
    settings = settings or _settings()
    result = compile_file(str(path), "argo", settings=settings)
    assert result.ok, result.diagnostics
    return result, argo.build_plan(result.plan.flow_name, result.files, result.package, settings)


def _deploy(path=HELLO):
    _, plan = _plan(path)
    lines: list[str] = []
    return execute(plan, lines.append), lines


def test_a_forbidden_template_read_names_the_status_and_keeps_the_previous_deployment(kube):
    kube.refuse = lambda m, p: 403 if m == "GET" and "workflowtemplates" in p else None
    with pytest.raises(DeployError) as caught:
        _deploy()
    text = str(caught.value)
    assert text.startswith("workflowtemplate ml/helloflow failed: the Kubernetes API answered 403 Forbidden: refused")
    assert text.endswith("the previous deployment is untouched")
    assert "HTTP response headers" not in text and "\n" not in text


def test_an_invalid_template_is_refused_with_the_servers_reason(kube, monkeypatch):
    real = argo._put_custom

    def renamed(custom, namespace, body):
        body = {**body, "metadata": {**body["metadata"], "name": "Not_A_Name"}}
        return real(custom, namespace, body)
    monkeypatch.setattr(argo, "_put_custom", renamed)
    with pytest.raises(DeployError, match=r"answered 422 Invalid: workflowtemplates.argoproj.io \"Not_A_Name\" "
                                          r"is invalid: metadata.name: Invalid value"):
        _deploy()
    assert kube.of_kind("workflowtemplates") == []


def test_a_concurrent_change_between_read_and_replace_is_a_conflict(kube):
    execute(_plan()[1], lambda line: None)
    changed = HELLO.read_text().replace('"hello"', '"changed"')
    flow = Path(os.environ["KUBECONFIG"]).parent / "hello.py"
    flow.write_text(changed)
    _, plan = _plan(flow)
    template = kube.of_kind("workflowtemplates")[0]
    original_handle = kube._handle

    def bump_before_put(method, path, query, body):
        if method == "PUT" and "workflowtemplates" in path:   # someone else writes first
            original_handle("PUT", path, "", {**template, "metadata": {**template["metadata"]},
                                              "spec": {**template["spec"], "entrypoint": "other"}})
        return original_handle(method, path, query, body)
    kube._handle = bump_before_put   # type: ignore[method-assign]
    with pytest.raises(DeployError, match="answered 409 Conflict: Operation cannot be fulfilled on "
                                          'workflowtemplates.argoproj.io "helloflow": the object has been modified'):
        execute(plan, lambda line: None)


def test_cron_refused_after_the_template_says_what_already_switched(kube):
    kube.refuse = lambda m, p: 500 if m == "POST" and "cronworkflows" in p else None
    _, plan = _plan(SCHEDULED)
    with pytest.raises(DeployError) as caught:
        execute(plan, lambda line: None)
    assert "answered 500 InternalError" in str(caught.value)
    assert str(caught.value).endswith("already switched: ml/" + kube.of_kind("workflowtemplates")[0]["metadata"]["name"])


def test_config_map_errors(kube):
    kube.refuse = lambda m, p: 401 if "configmaps" in p else None
    with pytest.raises(DeployError, match=r"^config-map flowc-code-[0-9a-f]+ failed: the Kubernetes API answered "
                                          r"401 Unauthorized: refused by the test; the previous deployment is untouched$"):
        _deploy()
    assert kube.of_kind("workflowtemplates") == []      # nothing after the refused package


def test_a_config_map_created_concurrently_is_unchanged(kube):
    _, plan = _plan()
    original_handle = kube._handle

    def race(method, path, query, body):
        if method == "POST" and path.endswith("/configmaps"):   # another deploy got there first
            original_handle(method, path, query, dict(body))
        return original_handle(method, path, query, body)
    kube._handle = race   # type: ignore[method-assign]
    done = execute(plan, lambda line: None)
    assert [outcome for action, outcome in done if action.kind == "config-map"] == ["unchanged"]


def test_an_unreachable_api_server_is_one_line(kube, monkeypatch, tmp_path):
    kube.stop()
    with pytest.raises(DeployError) as caught:
        _deploy()
    assert "cannot reach the Kubernetes API" in str(caught.value) and "\n" not in str(caught.value)


def test_trigger_refused_is_a_deploy_error(kube):
    kube.refuse = lambda m, p: 403 if m == "POST" and p.endswith("/workflows") else None
    with pytest.raises(DeployError, match="^cannot start a run of ml/helloflow: the Kubernetes API answered 403 Forbidden"):
        argo.trigger("helloflow", {}, _settings())


def test_status_of_an_unknown_run_is_a_deploy_error(kube):
    with pytest.raises(RunNotFound, match="^no run nope of helloflow$"):   # a DeployError too
        argo.status("helloflow", _settings(), "nope")
    with pytest.raises(DeployError, match="^helloflow has no runs yet$"):
        argo.status("helloflow", _settings())
    kube.refuse = lambda m, p: 500
    with pytest.raises(DeployError, match="^cannot read the runs of helloflow in ml: the Kubernetes API answered 500"):
        argo.status("helloflow", _settings())


def test_the_namespace_falls_back_to_default_without_a_context(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    assert argo.namespace_of(_settings(), None) == "default"
    assert argo.namespace_of(_settings(k8s_namespace="team"), None) == "team"


@pytest.mark.parametrize("command", [["trigger"], ["status", "nope"]])
def test_cli_prints_the_error_without_a_traceback(kube, command):
    kube.refuse = lambda m, p: 403 if "workflows" in p else None
    env = dict(os.environ, FLOWC_DATASTORE="file:///tmp/flowc-deploy-errors")
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run([sys.executable, "-m", "compiler.cli", command[0], str(HELLO), *command[1:], "--target", "argo"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("flowc: error: ") and "answered 403 Forbidden" in done.stderr
