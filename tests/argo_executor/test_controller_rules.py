"""The executor's controller rules (each cites Argo's source in executor.py / rules.py /
substitution.py), on small hand-written workflows."""
from __future__ import annotations

import json
import sys
import time

from .executor import ERRORED, FAILED, OMITTED, PENDING, RUNNING, SUCCEEDED, Executor, PodHook
from .rules import MAX_DEPTH_MESSAGE
from .test_executor_semantics import WRITE, py, wf


def _dag(*tasks, **extra):
    return {"name": "main", "dag": {"tasks": list(tasks)}, **extra}


def test_stack_depth_limit_is_100(tmp_path):
    """controller.go maxAllowedStackDepth = 100: main is depth 1, each nested call one more."""
    p = py("p", "pass")
    rec = {"name": "rec", "dag": {"tasks": [{"name": "p", "template": "p"},
                                            {"name": "again", "template": "rec", "depends": "p"}]}}
    main = _dag({"name": "r", "template": "rec"})
    ex = Executor(wf([main, rec, p]), workdir=str(tmp_path))
    ex.hooks.append(PodHook(lambda t: True, lambda t, a, e: 0))
    root = ex.run()
    assert root.phase == FAILED and MAX_DEPTH_MESSAGE in root.message
    # rec runs at depths 2..99; its pod one deeper: pods at depths 3..99 start, the one at 100 errors
    assert len(ex.pods) == 97


def test_depends_is_expr_lang_and_keywords_break_it(tmp_path):
    """dag.go evaluateDependsLogic: `-` becomes `_`, then expr-lang; `contains` is an operator."""
    ok = py("ok", "pass")
    main = _dag({"name": "contains", "template": "ok"}, {"name": "a-b", "template": "ok"},
                {"name": "after-kw", "template": "ok", "depends": "contains.Succeeded"},
                {"name": "after-dash", "template": "ok", "depends": "a-b.Succeeded && a-b"})
    root = Executor(wf([main, ok]), workdir=str(tmp_path)).run()
    phases = {n.name: n for n in root.children}
    assert phases["after-dash"].phase == SUCCEEDED
    assert phases["after-kw"].phase == ERRORED and "unable to evaluate" in phases["after-kw"].message


def test_no_pod_after_the_workflow_deadline(tmp_path):
    """workflowpod.go createWorkflowPod: `if wfActiveDeadlineSeconds <= 0 { return nil, nil }`."""
    slow = py("slow", "import time; time.sleep(5)")
    ok = py("ok", "pass")
    main = _dag({"name": "a", "template": "slow"}, {"name": "b", "template": "ok", "depends": "a.Failed"})
    ex = Executor(wf([main, slow, ok], activeDeadlineSeconds=2), workdir=str(tmp_path))
    root = ex.run()
    assert root.phase == FAILED
    b = next(n for n in root.children if n.name == "b")
    assert b.phase == FAILED and b.message.startswith("no pod")
    assert [p["template"] for p in ex.pods] == ["slow"]


def test_new_tasks_start_after_a_failure_unless_template_fail_fast(tmp_path):
    """operator.go checkParallelism: only Template.failFast stops new pods after a failed child."""
    bad = py("bad", "import sys; sys.exit(1)")
    slow = py("slow", "import time; time.sleep(0.5)")
    ok = py("ok", "pass")
    tasks = ({"name": "a", "template": "bad"}, {"name": "b", "template": "slow"},
             {"name": "c", "template": "ok", "depends": "b"})
    root = Executor(wf([_dag(*tasks), bad, slow, ok]), workdir=str(tmp_path / "1")).run()
    assert root.phase == FAILED
    assert {n.name: n.phase for n in root.children} == {"a": FAILED, "b": SUCCEEDED, "c": SUCCEEDED}
    root = Executor(wf([_dag(*tasks, failFast=True), bad, slow, ok]), workdir=str(tmp_path / "2")).run()
    assert root.phase == FAILED and "c" not in {n.name for n in root.children}


def test_missing_secret_or_configmap_leaves_the_pod_pending(tmp_path):
    """The kubelet cannot start a pod whose envFrom Secret or ConfigMap volume is missing; with no
    deadline it stays Pending, and the workflow Running."""
    t = py("t", "pass")
    t["container"]["envFrom"] = [{"secretRef": {"name": "absent"}}]
    started = time.monotonic()
    ex = Executor(wf([_dag({"name": "x", "template": "t"}), t]), workdir=str(tmp_path / "1"), pending_seconds=0.5)
    root = ex.run()
    assert time.monotonic() - started >= 0.5
    assert root.phase == RUNNING and root.children[0].phase == PENDING
    assert "CreateContainerConfigError" in root.children[0].message and "exit" not in ex.pods[0]
    c = py("c", "pass")
    spec = wf([_dag({"name": "x", "template": "c"}), c])
    spec[0]["spec"]["volumes"].append({"name": "cm", "configMap": {"name": "gone"}})
    root = Executor(spec, workdir=str(tmp_path / "2"), pending_seconds=0.2).run()
    assert root.phase == RUNNING and root.children[0].phase == PENDING and "gone" in root.children[0].message
    # the same pod with its secret present runs
    ex = Executor(wf([_dag({"name": "x", "template": "t"}), t]), workdir=str(tmp_path / "3"), secrets={"absent": {"K": "v"}})
    assert ex.run().phase == SUCCEEDED


def test_exec_limits(tmp_path):
    """execve: one string over MAX_ARG_STRLEN (128 KiB) is E2BIG; on v3.5 the template JSON is the
    ARGO_TEMPLATE env string of every container (workflowpod.go), so it must fit too."""
    big = py("big", "pass")
    big["container"]["args"] = ["x" * (140 * 1024)]
    root = Executor(wf([_dag({"name": "b", "template": "big"}), big]), workdir=str(tmp_path / "1")).run()
    assert root.phase == FAILED and "E2BIG" in root.message
    mid = py("mid", "pass")
    mid["container"]["args"] = ["a" * (70 * 1024), "b" * (70 * 1024)]
    for version, phase in (("4.1", SUCCEEDED), ("3.5", FAILED)):
        root = Executor(wf([_dag({"name": "m", "template": "mid"}), mid]), workdir=str(tmp_path / version),
                        argo_version=version).run()
        assert root.phase == phase, (version, root.message)
    assert "ARGO_TEMPLATE" in root.message


def test_pods_run_a_stdlib_python_in_a_fresh_directory(tmp_path):
    """The default image has only the standard library; every pod has its own empty cwd and /tmp."""
    probe = py("probe", "import importlib.util as u, os, sys, tempfile; "
                        "open(sys.argv[1], 'w').write(__import__('json').dumps([bool(u.find_spec('boto3')), "
                        "os.listdir('.'), tempfile.gettempdir(), os.getcwd()]))", outputs=["o"])
    probe["container"]["args"] = ["/out/o"]
    main = _dag({"name": "a", "template": "probe"}, {"name": "b", "template": "probe"})
    root = Executor(wf([main, probe]), workdir=str(tmp_path / "1")).run()
    assert root.phase == SUCCEEDED, root.message
    a, b = (json.loads(n.outputs["o"]) for n in sorted(root.children, key=lambda n: n.name))
    assert a[0] is False and a[1] == [] and b[1] == []
    assert a[2] != b[2] and a[3] != b[3]
    # a test may map an image to another interpreter
    ex = Executor(wf([main, probe]), workdir=str(tmp_path / "2"), images={"python": sys.executable})
    root = ex.run()
    assert root.phase == SUCCEEDED and ex.pods[0]["argv"][0] == sys.executable


def test_dependents_of_a_failure_are_omitted(tmp_path):
    bad = py("bad", "import sys; sys.exit(3)")
    ok = py("ok", "pass")
    main = _dag({"name": "a", "template": "bad"}, {"name": "b", "template": "ok", "depends": "a.Succeeded"},
                {"name": "c", "template": "ok", "depends": "a.Failed"})
    root = Executor(wf([main, bad, ok]), workdir=str(tmp_path)).run()
    assert {n.name: n.phase for n in root.children} == {"a": FAILED, "b": OMITTED, "c": SUCCEEDED}


def test_unresolvable_template_tag_refuses_the_template(tmp_path):
    """validate.go: a template's own tag must name a variable (values may hold any text)."""
    t = py("t", WRITE)
    t["container"]["args"] = ["/out/o", "{{workflow.parameters.nope}}"]
    root = Executor(wf([_dag({"name": "x", "template": "t"}), t]), workdir=str(tmp_path)).run()
    assert root.children[0].phase == ERRORED and "nope" in root.children[0].message


def test_global_pass_over_the_spec(tmp_path):
    """substituteGlobalVariables scans the spec (templates excluded) once: a value with `{{` and a
    later `}}` in the spec's JSON is harmless; with none after it the workflow never starts."""
    import pytest

    from .rules import WorkflowError

    ok = py("ok", "pass")
    docs = wf([_dag({"name": "x", "template": "ok"}), ok], [{"name": "v"}])
    assert Executor(docs, {"v": "a {{ b"}, workdir=str(tmp_path / "1")).run().phase == SUCCEEDED
    docs[0]["spec"]["volumes"] = []          # no `}}` after the arguments any more
    with pytest.raises(WorkflowError, match="never starts"):
        Executor(docs, {"v": "a {{ b"}, workdir=str(tmp_path / "2"))
