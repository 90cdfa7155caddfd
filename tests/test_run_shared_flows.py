"""Every flow marked *runs* in the shared corpus completes under `flowc run` (their `end` asserts):
RUNS is the list; tests/parity runs them (and compares engines), ONLY_HERE run here."""
import os

import pytest

from tests.runtime_fixtures import SHARED_VALID, file_root, run

RUNS = [
    ("hello.py", ()),
    ("branch.py", ()),
    ("foreach.py", ()),
    ("nested_foreach.py", ()),
    ("parameters.py", ("who=flowc",)),
    ("retry_catch_timeout.py", ()),
    ("switch.py", ("threshold=5",)),
    ("switch.py", ()),
    ("scheduled.py", ()),
    ("wide_foreach.py", ()),
    ("mixed_nesting.py", ()),
    ("static_config.py", ()),
    ("include_file.py", ()),
    ("hybrid_cloud.py", ()),
    ("conditional_skip.py", ()),
    ("conditional_skip.py", ("mode=work",)),
    ("switch_in_branch.py", ()),
    ("switch_in_branch.py", ("size=3",)),
]


# tests/parity runs every flow of RUNS on `flowc run`, Argo and Step Functions and compares their
# artifacts; the flows it cannot run there (Batch queues beside a Kubernetes cluster) run here.
ONLY_HERE = {"hybrid_cloud.py"}
HERE = [r for r in RUNS if r[0] in ONLY_HERE]


@pytest.mark.parametrize("flow,params", HERE, ids=["%s%s" % (f, "-" + "-".join(p) if p else "")
                                                   for f, p in HERE])
def test_shared_flow_runs(tmp_path, flow, params):
    code, rid, out = run(os.path.join(SHARED_VALID, flow), *params, datastore=file_root(tmp_path))
    assert code == 0, out
    assert rid


def test_switch_takes_the_right_branch(tmp_path):
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    code, rid, out = run(os.path.join(SHARED_VALID, "switch.py"), "threshold=5", datastore=root)
    assert code == 0, out
    r = Run("SwitchFlow/" + rid, datastore=root)
    assert r.successful
    assert r.data.result == "took large"
    steps = {s.id for s in r}
    assert "large" in steps and "small" not in steps
    code, rid, out = run(os.path.join(SHARED_VALID, "switch.py"), datastore=root)
    assert code == 0, out
    r = Run("SwitchFlow/" + rid, datastore=root)
    assert r.data.result == "took small"
    steps = {s.id for s in r}
    assert "small" in steps and "large" not in steps


def test_wide_foreach_results_via_client(tmp_path):
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    code, rid, out = run(os.path.join(SHARED_VALID, "wide_foreach.py"), "width=30",
                         datastore=root)
    assert code == 0, out
    r = Run("WideForeachFlow/" + rid, datastore=root)
    assert r.data.sum_of_squares == sum(i * i for i in range(30))
    tasks = r["square"].tasks()
    assert [t.id for t in tasks] == ["t-%d" % i for i in range(30)]
    assert [t.data.squared for t in tasks] == [i * i for i in range(30)]
    assert r["start"].task.data.width == 30


def test_parameters_reach_end(tmp_path):
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    code, rid, out = run(os.path.join(SHARED_VALID, "parameters.py"), "who=flowc",
                         "label-with-dash=yes", "verbose=TRUE", "rounds=7", datastore=root)
    assert code == 0, out
    r = Run("ParameterFlow/" + rid, datastore=root)
    assert r.data.message == "flowc:0.01:7:True:4:yes"
    assert r.data.who == "flowc" and r.data.rounds == 7 and r.data.config == {"depth": 4,
                                                                             "tags": ["x"]}


def test_retry_catch_timeout_artifacts(tmp_path):
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    code, rid, out = run(os.path.join(SHARED_VALID, "retry_catch_timeout.py"), datastore=root)
    assert code == 0, out
    r = Run("RetryCatchTimeoutFlow/" + rid, datastore=root)
    assert r.data.attempts_needed == 2
    assert "always fails" in str(r.data.broken_error)
    assert "timed out" in str(r.data.slow_error)
    assert r["flaky"].task.attempt == 1
    assert r["broken"].task.status == "caught"


def test_include_file_content_travels(tmp_path):
    from runtime_shim.client import Run

    other = tmp_path / "other.csv"
    other.write_text("c,3\n")
    root = file_root(tmp_path)
    src = open(os.path.join(SHARED_VALID, "include_file.py")).read().replace(
        '[["a", "1"], ["b", "2"]]', '[["c", "3"]]')
    flow = tmp_path / "inc.py"
    flow.write_text(src)
    code, rid, out = run(str(flow), "table=%s" % other, datastore=root)
    assert code == 0, out
    assert Run("IncludeFileFlow/" + rid, datastore=root).data.table == "c,3\n"
