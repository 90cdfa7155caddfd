"""The executor's Argo rules on small hand-written workflows (commands are `python -c ...`)."""
from __future__ import annotations

import os
import sys

import pytest

from .executor import ERRORED, FAILED, SUCCEEDED, Executor


def wf(templates, parameters=(), **spec):
    return [{"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "t"},
             "spec": {"entrypoint": "main", "arguments": {"parameters": list(parameters)},
                      "volumes": [{"name": "out", "emptyDir": {}}], "templates": templates, **spec}}]


def py(name, code, inputs=(), outputs=(), **extra):
    t = {"name": name, "container": {"image": "python", "command": ["python", "-c", code],
                                    "args": [], "volumeMounts": [{"name": "out", "mountPath": "/out"}]}}
    if inputs:
        t["inputs"] = {"parameters": [{"name": i} for i in inputs]}
    if outputs:
        t["outputs"] = {"parameters": [{"name": o, "valueFrom": {"path": f"/out/{o}"}} for o in outputs]}
    t.update(extra)
    return t


WRITE = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"


def test_with_items_param_sequence_and_outputs(tmp_path):
    emit = py("emit", WRITE, inputs=["v"], outputs=["o"])
    emit["container"]["args"] = ["/out/o", "{{inputs.parameters.v}}"]
    main = {"name": "main", "dag": {"tasks": [
        {"name": "a", "template": "emit", "arguments": {"parameters": [{"name": "v", "value": "[1, 2, 3]"}]}},
        {"name": "b", "template": "emit", "depends": "a", "withParam": "{{tasks.a.outputs.parameters.o}}",
         "arguments": {"parameters": [{"name": "v", "value": "x{{item}}"}]}},
        {"name": "c", "template": "emit", "depends": "a", "withItems": ["p", "q"],
         "arguments": {"parameters": [{"name": "v", "value": "{{item}}"}]}},
        {"name": "d", "template": "emit", "depends": "b && c", "withSequence": {"count": "2", "start": "5"},
         "arguments": {"parameters": [{"name": "v", "value": "{{tasks.c.outputs.parameters.o}}-{{item}}"}]}},
    ]}, "outputs": {"parameters": [{"name": "r", "valueFrom": {"expression": "tasks.b.outputs.parameters.o"}}]}}
    ex = Executor(wf([main, emit]), workdir=str(tmp_path))
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message
    assert root.outputs["r"] == '["x1", "x2", "x3"]'
    d = next(n for n in root.children if n.name == "d")
    assert [c.outputs["o"] for c in d.children] == ['["p", "q"]-5', '["p", "q"]-6']


def test_retry_limit_backoff_and_retries_variable(tmp_path):
    counter = tmp_path / "count"
    code = ("import sys,os; p=sys.argv[1]; n=int(open(p).read()) if os.path.exists(p) else 0; "
            "open(p,'w').write(str(n+1)); sys.exit(0 if sys.argv[2]=='2' else 1)")
    flaky = py("flaky", code, retryStrategy={"limit": "3", "backoff": {"duration": "1s", "factor": "2"}})
    flaky["container"]["args"] = [str(counter), "{{retries}}"]
    main = {"name": "main", "dag": {"tasks": [{"name": "f", "template": "flaky"}]}}
    ex = Executor(wf([main, flaky]), workdir=str(tmp_path / "w"), backoff_scale=0.01)
    assert ex.run().phase == SUCCEEDED
    assert counter.read_text() == "3"
    assert [p["argv"][-1] for p in ex.pods] == ["0", "1", "2"]


def test_retry_exhausted_fails_and_omits_dependents(tmp_path):
    bad = py("bad", "import sys; sys.exit(1)", retryStrategy={"limit": "1"})
    ok = py("ok", "pass")
    main = {"name": "main", "dag": {"tasks": [{"name": "b", "template": "bad"},
                                              {"name": "o", "template": "ok", "depends": "b.Succeeded"}]}}
    root = Executor(wf([main, bad, ok]), workdir=str(tmp_path)).run()
    assert root.phase == FAILED
    assert {n.name: n.phase for n in root.children}["b"] == FAILED


def test_active_deadline_seconds(tmp_path):
    slow = py("slow", "import time; time.sleep(30)", activeDeadlineSeconds="1")
    main = {"name": "main", "dag": {"tasks": [{"name": "s", "template": "slow"}]}}
    root = Executor(wf([main, slow]), workdir=str(tmp_path)).run()
    assert root.phase == FAILED and "deadline" in root.message


def test_parallelism_limits_pods(tmp_path):
    code = ("import os,sys,time; d=sys.argv[1]; p=os.path.join(d, str(os.getpid())); open(p,'w').close(); "
            "n=len([f for f in os.listdir(d) if not f.endswith('.max')]); time.sleep(0.3); os.remove(p); open(p+'.max','w').write(str(n))")
    sleeper = py("sleeper", code)
    sleeper["container"]["args"] = [str(tmp_path / "live")]
    os.makedirs(tmp_path / "live")
    main = {"name": "main", "dag": {"tasks": [{"name": "s", "template": "sleeper", "withSequence": {"count": "6"}}]}}
    root = Executor(wf([main, sleeper], parallelism=2), workdir=str(tmp_path / "w")).run()
    assert root.phase == SUCCEEDED
    maxima = [int((tmp_path / "live" / f).read_text()) for f in os.listdir(tmp_path / "live") if f.endswith(".max")]
    assert max(maxima) <= 2


def test_unresolved_reference_errors(tmp_path):
    t = py("t", "pass")
    t["container"]["args"] = ["{{workflow.parameters.missing}}"]
    main = {"name": "main", "dag": {"tasks": [{"name": "x", "template": "t"}]}}
    root = Executor(wf([main, t]), workdir=str(tmp_path)).run()
    assert root.phase == FAILED and root.children[0].phase == ERRORED


def test_values_are_substituted_again_like_argo(tmp_path):
    """SubstituteParams runs Replace twice and substitutePodParams once more
    (workflow/common/util.go, workflow/controller/workflowpod.go): a tag inside a parameter value
    is resolved, an expression evaluated; one whose evaluation fails (sprig `env` is removed) stays."""
    echo = py("echo", WRITE, outputs=["o"])
    echo["container"]["args"] = ["/out/o", "{{workflow.parameters.v}}"]
    main = {"name": "main", "dag": {"tasks": [{"name": "e", "template": "echo"}]},
            "outputs": {"parameters": [{"name": "o", "valueFrom": {"parameter": "{{tasks.e.outputs.parameters.o}}"}}]}}
    value = "{{=sprig.env('HOME')}} {{workflow.name}} {{=1+1}} '\"; rm -rf /"
    ex = Executor(wf([main, echo], [{"name": "v"}]), {"v": value}, workdir=str(tmp_path))
    root = ex.run()
    assert root.phase == SUCCEEDED, root.message
    assert root.outputs["o"] == "{{=sprig.env('HOME')}} %s 2 '\"; rm -rf /" % ex.name


def test_skipped_task_outputs_are_empty_strings(tmp_path):
    emit = py("emit", WRITE, inputs=["v"], outputs=["o"])
    emit["container"]["args"] = ["/out/o", "{{inputs.parameters.v}}"]
    main = {"name": "main", "dag": {"tasks": [
        {"name": "a", "template": "emit", "when": "'x' == 'y'", "arguments": {"parameters": [{"name": "v", "value": "1"}]}},
        {"name": "b", "template": "emit", "depends": "a", "arguments": {"parameters": [
            {"name": "v", "value": "[{{tasks.a.outputs.parameters.o}}]"}]}},
    ]}}
    root = Executor(wf([main, emit]), workdir=str(tmp_path)).run()
    assert root.phase == SUCCEEDED, root.message
    assert {n.name: n.phase for n in root.children} == {"a": "Skipped", "b": "Succeeded"}
    assert next(n for n in root.children if n.name == "b").outputs["o"] == "[]"
