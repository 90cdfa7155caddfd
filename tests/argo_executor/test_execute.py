"""Every runnable flow, compiled for Argo, runs through the executor to its `end` assertions."""
from __future__ import annotations

import os

import pytest

from .executor import SUCCEEDED, evaluate_depends, merge_template_defaults, Node
from .harness import param_adapter, run_flow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "tests", "flows", "shared", "valid")
OWN = os.path.join(ROOT, "tests", "flows", "valid_own")

RUNNABLE = [
    ("hello", {}), ("branch", {}), ("foreach", {}), ("nested_foreach", {}),
    ("parameters", {"who": "flowc"}), ("retry_catch_timeout", {}),
    ("switch", {"threshold": "5"}), ("switch", {}), ("scheduled", {}), ("wide_foreach", {}),
    ("mixed_nesting", {}), ("static_config", {}), ("include_file", {}),
]


def _run(path, tmp_path, args=None, **kw):
    hooks = [h for h in [param_adapter()] if h is not None] + list(kw.pop("hooks", []))
    ex, root, lines = run_flow(path, tmp_path, args, hooks=hooks, **kw)
    assert root.phase == SUCCEEDED, root.message + "\n" + "\n".join(lines[-40:])
    return ex, root


@pytest.mark.parametrize("name,args", RUNNABLE, ids=[f"{n}-{'-'.join(a) or 'default'}" for n, a in RUNNABLE])
def test_shared_flow_runs(name, args, tmp_path):
    ex, root = _run(os.path.join(SHARED, name + ".py"), tmp_path, args)
    assert all(p["argv"][1:4] == ["-m", "runtime_shim", "task"] for p in ex.pods)


@pytest.mark.parametrize("name", ["recursive_switch", "switch_in_foreach", "recursive_switch_foreach",
                                  "foreach_in_switch", "branch_in_switch",
                                  "switch_in_branch", "nested_switch", "custom_start_end"])
def test_own_flow_runs(name, tmp_path):
    path = os.path.join(OWN, name + ".py")
    if not os.path.exists(path):
        pytest.skip(f"{name}.py not in the front end's corpus")
    _run(path, tmp_path)


def test_recursive_switch_iterations(tmp_path):
    ex, _ = _run(os.path.join(OWN, "recursive_switch.py"), tmp_path)
    loops = [p["argv"] for p in ex.pods if p["argv"][p["argv"].index("--step") + 1] == "loop"]
    assert sorted(a[a.index("--iteration") + 1] for a in loops) == ["0", "1", "2"]


def test_retry_attempts_use_retries_variable(tmp_path):
    ex, _ = _run(os.path.join(SHARED, "retry_catch_timeout.py"), tmp_path)
    attempts = [p["argv"][p["argv"].index("--attempt") + 1] for p in ex.pods if "--attempt" in p["argv"]]
    assert "1" in attempts                            # a step failed once and was retried


def test_foreach_index_paths(tmp_path):
    ex, _ = _run(os.path.join(SHARED, "nested_foreach.py"), tmp_path)
    paths = {p["argv"][p["argv"].index("--index-path") + 1] for p in ex.pods if "--index-path" in p["argv"]}
    assert any("," in x for x in paths)


def test_depends_logic():
    nodes = {"a": Node("a", "Succeeded"), "b": Node("b", "Skipped"), "c": Node("c", "Omitted")}
    assert evaluate_depends("a.Succeeded || b.Succeeded", nodes)
    assert not evaluate_depends("b.Succeeded || c.Succeeded", nodes)
    assert evaluate_depends("b", nodes)                # unspecified: Succeeded || Skipped || Daemoned
    assert not evaluate_depends("a && !b.Skipped", nodes)


def test_template_defaults_merge_by_type():
    defaults = {"container": {"image": "x", "env": [{"name": "A", "value": "1"}]}, "retryStrategy": {"limit": "1"}}
    merged = merge_template_defaults(defaults, {"name": "d", "dag": {"tasks": []}})
    assert "container" not in merged and merged["retryStrategy"] == {"limit": "1"}
    merged = merge_template_defaults(defaults, {"name": "c", "container": {"image": "y", "env": [{"name": "B", "value": "2"}]}})
    assert merged["container"]["image"] == "y" and [e["name"] for e in merged["container"]["env"]] == ["A", "B"]


def test_failing_required_parameter(tmp_path):
    from .executor import WorkflowError

    with pytest.raises(WorkflowError):
        run_flow(os.path.join(SHARED, "parameters.py"), tmp_path, {})
