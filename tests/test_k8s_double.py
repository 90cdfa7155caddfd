"""tests/k8s_double.py answers as the API server does, through the real kubernetes client: what a
test against it shows about flowc is only worth as much as these."""
from __future__ import annotations

import json
import time

import pytest

from tests.k8s_double import KubeDouble, node, secret


@pytest.fixture
def kube():
    double = KubeDouble().start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def api(kube):
    from kubernetes import client

    config = client.Configuration()
    config.host = kube.url
    api = client.ApiClient(config)
    return client.CoreV1Api(api), client.BatchV1Api(api), client.CustomObjectsApi(api)


def _error(call, *args):
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as caught:
        call(*args)
    return caught.value.status, json.loads(caught.value.body)


def _cm(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {}}


def _job(name, command, backoff=0, deadline=None, **container):
    spec = {"backoffLimit": backoff, "template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "main", "image": "python:3.12", "command": ["python", "-c", command], **container}]}}}
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def _wait(read, until, seconds=20.0):
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        obj = read()
        if until(obj):
            return obj
        time.sleep(0.05)
    raise AssertionError("timed out; last: %r" % (obj,))


@pytest.mark.parametrize("name", ["Upper", "under_score", "-lead", "trail-", "a" * 254, "dot..dot"])
def test_bad_names_are_422_invalid(api, name):
    core, _, _ = api
    code, body = _error(core.create_namespaced_config_map, "ns", _cm(name))
    assert code == 422 and body["reason"] == "Invalid" and body["kind"] == "Status"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert body["message"].startswith('configmaps "%s" is invalid: metadata.name: Invalid value' % name)


def test_a_job_name_must_also_be_a_label_value(api):
    _, batch, _ = api
    code, body = _error(batch.create_namespaced_job, "ns", _job("j" * 64, "pass"))
    assert code == 422 and "no more than 63 characters" in body["message"]
    assert body["details"] == {"name": "j" * 64, "group": "batch", "kind": "jobs", "causes": body["details"]["causes"]}


@pytest.mark.parametrize("labels,field", [({"bad key!": "v"}, "metadata.labels"),
                                          ({"k": "v" * 64}, "metadata.labels[k]"),
                                          ({"k": "-v"}, "metadata.labels[k]"),
                                          ({"Bad.Prefix/k": "v"}, "metadata.labels")])
def test_bad_labels_are_422(api, labels, field):
    core, _, _ = api
    code, body = _error(core.create_namespaced_config_map, "ns", _cm("ok", labels))
    assert code == 422 and body["reason"] == "Invalid"
    assert [c["field"] for c in body["details"]["causes"]] == [field]


@pytest.mark.parametrize("resources,needle", [({"requests": {"memory": "4 GB"}}, "resources.requests[memory]"),
                                              ({"limits": {"cpu": "one"}}, "resources.limits[cpu]"),
                                              ({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
                                               "must be less than or equal to cpu limit")])
def test_bad_quantities_are_422(api, resources, needle):
    _, batch, _ = api
    code, body = _error(batch.create_namespaced_job, "ns", _job("j", "pass", resources=resources))
    assert code == 422 and needle in body["message"], body


def test_good_quantities_pass(api):
    _, batch, _ = api
    job = _job("j", "pass", resources={"requests": {"cpu": "500m", "memory": "1.5Gi", "ephemeral-storage": "1e9"},
                                       "limits": {"nvidia.com/gpu": "1"}})
    assert batch.create_namespaced_job("ns", job).metadata.name == "j"


def test_name_in_the_url_must_match_the_body(api):
    core, _, _ = api
    core.create_namespaced_config_map("ns", _cm("a"))
    code, body = _error(core.replace_namespaced_config_map, "a", "ns", _cm("b"))
    assert code == 400 and body["reason"] == "BadRequest"
    assert "does not match the name on the URL" in body["message"]


def test_core_objects_accept_an_update_without_resource_version(api):
    core, _, _ = api
    created = core.create_namespaced_config_map("ns", _cm("a", data={"k": "1"}))
    replaced = core.replace_namespaced_config_map("a", "ns", _cm("a", data={"k": "2"}))
    assert replaced.data == {"k": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    stale = _cm("a", data={"k": "3"})
    stale["metadata"]["resourceVersion"] = created.metadata.resource_version
    code, body = _error(core.replace_namespaced_config_map, "a", "ns", stale)
    assert code == 409 and body["reason"] == "Conflict" and "has been modified" in body["message"]


def test_custom_resources_need_a_resource_version_on_put(api):
    _, _, custom = api
    template = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "t"},
                "spec": {"entrypoint": "main"}}
    created = custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", "ns", "workflowtemplates", template)
    code, body = _error(custom.replace_namespaced_custom_object, "argoproj.io", "v1alpha1", "ns",
                        "workflowtemplates", "t", template)
    assert code == 422 and body["reason"] == "Invalid"
    assert body["message"] == ('workflowtemplates.argoproj.io "t" is invalid: metadata.resourceVersion: '
                               "Invalid value: 0: must be specified for an update")
    template["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    replaced = custom.replace_namespaced_custom_object("argoproj.io", "v1alpha1", "ns", "workflowtemplates", "t", template)
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]


def test_errors_are_status_objects_with_a_reason(api):
    core, _, _ = api
    code, body = _error(core.read_namespaced_config_map, "absent", "ns")
    assert code == 404 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                    "message": 'configmaps "absent" not found', "reason": "NotFound",
                                    "details": {"name": "absent", "group": "", "kind": "configmaps"}, "code": 404}
    core.create_namespaced_config_map("ns", _cm("a"))
    code, body = _error(core.create_namespaced_config_map, "ns", _cm("a"))
    assert code == 409 and body["reason"] == "AlreadyExists"


@pytest.mark.parametrize("selector,names", [
    ("tier=web", ["a", "b"]), ("tier==web", ["a", "b"]), ("tier!=web", ["c", "d"]),
    ("tier in (web,db)", ["a", "b", "c"]), ("tier notin (web)", ["c", "d"]), ("tier", ["a", "b", "c"]),
    ("!tier", ["d"]), ("tier=web,env=prod", ["a"]), ("tier in (web, db),!env", ["c"]),
])
def test_label_selectors(api, selector, names):
    core, _, _ = api
    for name, labels in [("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "web", "env": "dev"}),
                         ("c", {"tier": "db"}), ("d", {})]:
        core.create_namespaced_config_map("ns", _cm(name, labels))
    listed = core.list_namespaced_config_map("ns", label_selector=selector)
    assert [i.metadata.name for i in listed.items] == names


def test_field_selectors(api, kube):
    core, _, _ = api
    for name in ("a", "b"):
        core.create_namespaced_config_map("ns", _cm(name))
    assert [i.metadata.name for i in core.list_namespaced_config_map("ns", field_selector="metadata.name=b").items] == ["b"]
    assert [i.metadata.name for i in core.list_namespaced_config_map("ns", field_selector="metadata.name!=b").items] == ["a"]
    code, body = _error(core.list_namespaced_config_map, "ns", None, None, None, "data.x=1")
    assert code == 400 and body["message"] == "field label not supported: data.x"


def test_pod_phase_field_selector_and_backoff_limit(api, kube):
    """backoffLimit 2: three pods fail with the exit code in their status, then BackoffLimitExceeded."""
    core, batch, _ = api
    kube.run_jobs, kube.nodes = True, [node("n", "2", "4Gi")]
    batch.create_namespaced_job("ns", _job("fails", "import sys; sys.exit(3)", backoff=2))
    job = _wait(lambda: batch.read_namespaced_job_status("fails", "ns"),
                lambda j: any(c.type == "Failed" for c in j.status.conditions or []))
    (cond,) = job.status.conditions
    assert (cond.reason, cond.status, job.status.failed) == ("BackoffLimitExceeded", "True", 3)
    pods = core.list_namespaced_pod("ns", label_selector="job-name=fails", field_selector="status.phase=Failed").items
    assert sorted(p.metadata.name for p in pods) == ["fails-0", "fails-1", "fails-2"]
    assert {p.status.container_statuses[0].state.terminated.exit_code for p in pods} == {3}
    assert core.list_namespaced_pod("ns", field_selector="status.phase=Succeeded").items == []


def test_a_retried_job_succeeds_on_a_later_pod(api, kube, tmp_path):
    _, batch, _ = api
    kube.run_jobs, kube.nodes = True, [node("n", "2", "4Gi")]
    marker = tmp_path / "tried"
    command = ("import os,sys; p=%r; first=not os.path.exists(p); open(p,'w').close(); sys.exit(1 if first else 0)"
               % str(marker))
    batch.create_namespaced_job("ns", _job("flaky", command, backoff=1))
    job = _wait(lambda: batch.read_namespaced_job_status("flaky", "ns"), lambda j: j.status.succeeded)
    assert job.status.failed == 1 and job.status.conditions[0].type == "Complete"


def test_active_deadline_kills_the_pod(api, kube):
    core, batch, _ = api
    kube.run_jobs, kube.nodes = True, [node("n", "2", "4Gi")]
    batch.create_namespaced_job("ns", _job("slow", "import time; time.sleep(30)", deadline=1))
    began = time.monotonic()
    job = _wait(lambda: batch.read_namespaced_job_status("slow", "ns"), lambda j: j.status.conditions)
    assert job.status.conditions[0].reason == "DeadlineExceeded" and time.monotonic() - began < 10
    assert core.list_namespaced_pod("ns", label_selector="job-name=slow").items == []


def test_pods_wait_for_room_and_for_a_matching_node(api, kube):
    """One CPU: the second pod is Pending (Insufficient cpu) until the first ends; a pod whose
    node selector no node matches stays Pending."""
    core, batch, _ = api
    kube.run_jobs, kube.nodes = True, [node("n", "1", "4Gi", labels={"pool": "cpu"})]
    one_cpu = {"requests": {"cpu": "1"}}
    batch.create_namespaced_job("ns", _job("first", "import time; time.sleep(1.5)", resources=one_cpu))
    _wait(lambda: core.list_namespaced_pod("ns", label_selector="job-name=first").items,
          lambda pods: pods and pods[0].status.phase == "Running")
    batch.create_namespaced_job("ns", _job("second", "pass", resources=one_cpu))
    pending = _wait(lambda: core.list_namespaced_pod("ns", label_selector="job-name=second").items,
                    lambda pods: pods and pods[0].status.conditions)
    assert pending[0].status.phase == "Pending"
    assert pending[0].status.conditions[0].reason == "Unschedulable"
    assert pending[0].status.conditions[0].message == "0/1 nodes are available: 1 Insufficient cpu."
    _wait(lambda: batch.read_namespaced_job_status("second", "ns"), lambda j: j.status.succeeded)
    gpu = _job("gpu", "pass")
    gpu["spec"]["template"]["spec"]["nodeSelector"] = {"pool": "gpu"}
    batch.create_namespaced_job("ns", gpu)
    pods = _wait(lambda: core.list_namespaced_pod("ns", label_selector="job-name=gpu").items,
                 lambda pods: pods and pods[0].status.conditions)
    assert "didn't match Pod's node affinity/selector" in pods[0].status.conditions[0].message
    batch.delete_namespaced_job("gpu", "ns")
    assert core.list_namespaced_pod("ns", label_selector="job-name=gpu").items == []


def test_env_references_resolve_and_missing_ones_hold_the_pod(api, kube):
    core, batch, _ = api
    kube.run_jobs, kube.nodes = True, [node("n", "2", "4Gi")]
    kube.add(secret("creds", {"token": "t0k"}), namespace="ns")
    core.create_namespaced_config_map("ns", _cm("conf", data={"MODE": "fast"}))
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
           {"name": "PLAIN", "value": "p"}]
    batch.create_namespaced_job("ns", _job("reads", "import os; print(os.environ['TOKEN'], os.environ['MODE'], "
                                                    "os.environ['PLAIN'])",
                                           env=env, envFrom=[{"configMapRef": {"name": "conf"}}]))
    _wait(lambda: batch.read_namespaced_job_status("reads", "ns"), lambda j: j.status.succeeded)
    assert core.read_namespaced_pod_log("reads-0", "ns").strip() == "t0k fast p"
    missing_key = [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "absent"}}}]
    batch.create_namespaced_job("ns", _job("stuck", "pass", env=missing_key))
    pods = _wait(lambda: core.list_namespaced_pod("ns", label_selector="job-name=stuck").items,
                 lambda pods: pods and pods[0].status.container_statuses)
    waiting = pods[0].status.container_statuses[0].state.waiting
    assert (pods[0].status.phase, waiting.reason) == ("Pending", "CreateContainerConfigError")
    assert waiting.message == "couldn't find key absent in Secret ns/creds"
