"""Parity: every runnable flow of tests/flows (the shared corpus as the run tests run it, and
every flow of valid_own, found by glob so new flows join automatically), and a sample of
generated random flows (tests/flowgen.py), runs three ways -- `flowc run`, the Argo executor,
Step Functions on moto -- each task in a fresh, empty working directory that has nothing of the
flow's folder (tests/parity/engines.py asserts it). Every task's artifacts, read back with the
client from each engine's datastore, must be identical across the three engines: same steps,
same task ids, same attempts and statuses, same artifact names and values.

FLOWC_PARITY_SEEDS (comma-separated, default "0,8") picks the random flows; FLOWC_PARITY_FUZZ=N
adds N more seeds, marked slow.
"""
from __future__ import annotations

import glob
import os

import pytest

from tests.parity import engines as E
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)
from tests.test_run_shared_flows import ONLY_HERE
from tests.test_run_shared_flows import RUNS as SHARED_RUNS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "tests", "flows", "shared", "valid")
OWN = os.path.join(ROOT, "tests", "flows", "valid_own")

# Flows of the shared list that need more than the three engines' plain set-up (hybrid_cloud's
# @batch steps need Batch queues next to a Kubernetes cluster): run by their own tests.
NOT_HERE = ONLY_HERE
# Flows Step Functions refuses (the code it reports): compared on the other two engines.
SFN_REFUSES = {"parallel_flow.py": "FC413"}
# Parameters the parity run gives on top of the run tests' (a smaller fan-out keeps it quick).
SMALLER = {"wide_foreach.py": {"width": "12"}}


def _params(flow: str, given: tuple[str, ...]) -> dict[str, str]:
    params = dict(p.split("=", 1) for p in given)
    params.update(SMALLER.get(flow, {}))
    return params


def _cases():
    cases = []
    for flow, given in SHARED_RUNS:
        if flow in NOT_HERE:
            continue
        params = _params(flow, given)
        ident = "shared/" + flow[:-3] + "".join("-%s=%s" % kv for kv in sorted(dict(p.split("=", 1) for p in given).items()))
        cases.append(pytest.param(os.path.join(SHARED, flow), params, id=ident))
    for path in sorted(glob.glob(os.path.join(OWN, "*.py"))) + sorted(glob.glob(os.path.join(OWN, "*", "flow_*.py"))):
        cases.append(pytest.param(path, {}, id="own/" + os.path.relpath(path, OWN)[:-3]))
    return cases


def _seeds():
    base = [int(s) for s in os.environ.get("FLOWC_PARITY_SEEDS", "0,8").split(",") if s.strip()]
    extra = int(os.environ.get("FLOWC_PARITY_FUZZ", "0"))
    seeds = [pytest.param(s, id="seed%d" % s) for s in base]
    seeds += [pytest.param(1000 + i, id="seed%d" % (1000 + i), marks=pytest.mark.slow) for i in range(extra)]
    return seeds


def three_ways(path: str, params: dict[str, str], tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    """Run on the three engines, check isolation, return the three snapshots."""
    flow_dir = os.path.dirname(os.path.abspath(path))
    name, end = E.flow_of(path)
    local_id, local_tasks = E.run_local(path, params, tmp_path, monkeypatch)
    E.assert_isolated(local_tasks, flow_dir, "flowc run")
    local = E.snapshot(name, local_id, "file://" + str(tmp_path / "local-ds"))

    argo_id, argo_ds, pods = E.run_argo(path, params, tmp_path)
    E.assert_isolated(pods, flow_dir, "argo")
    argo = E.snapshot(name, argo_id, argo_ds)

    if os.path.basename(path) in SFN_REFUSES:
        from compiler.pipeline import compile_file
        from compiler.settings import resolve

        result = compile_file(path, "stepfunctions", settings=resolve(
            {"datastore": "s3://b/p", "batch_queue": "q"}, flow_dir="/", environ={}))
        assert SFN_REFUSES[os.path.basename(path)] in {d.code for d in result.diagnostics}
        return local, argo, None
    sfn_id, sfn_ds, jobs = E.run_sfn(path, params, sfn_moto, monkeypatch)
    E.assert_isolated(jobs, flow_dir, "stepfunctions")
    sfn = E.snapshot(name, sfn_id, sfn_ds)
    assert local.get(end), "the run did not reach its end step %r" % end
    return local, argo, sfn


def assert_identical(local, argo, sfn):
    assert local, "no task was read back"
    problems = E.diff(local, argo, ("run", "argo")) + (E.diff(local, sfn, ("run", "sfn")) if sfn is not None else [])
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("path,params", _cases())
def test_flow_has_the_same_artifacts_on_every_engine(path, params, tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    local, argo, sfn = three_ways(path, params, tmp_path, sfn_moto, monkeypatch)
    assert_identical(local, argo, sfn)


@pytest.mark.parametrize("seed", _seeds())
def test_random_flow_has_the_same_artifacts_on_every_engine(seed, tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    from tests.flowgen import flow_source

    src, cls = flow_source(seed)
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    path = flow_dir / ("fuzz_%d.py" % seed)
    path.write_text(src)
    local, argo, sfn = three_ways(str(path), {}, tmp_path, sfn_moto, monkeypatch)
    assert_identical(local, argo, sfn)
    result = local["end"]["t"]["artifacts"]["result"]
    assert result[1] == "start" and result[-1] == "end"


def test_the_corpus_is_covered():
    """Every valid flow in tests/flows is here, run by its own tests, or compile-only (say why)."""
    covered = {os.path.basename(p.values[0]) for p in _cases()} | NOT_HERE
    compile_only = {"big_sum.py", "big_sum_batch.py", "cloud_options.py", "heavy_imports.py", "resources.py"}
    everything = {os.path.basename(p) for p in glob.glob(os.path.join(SHARED, "*.py"))}
    assert everything - covered == compile_only
    assert len([c for c in _cases() if "/own/" in c.values[0] or OWN in c.values[0]]) >= 20


def test_snapshots_see_differences():
    """The comparison is not vacuous: a changed value, a missing task, a changed attempt all show."""
    base = {"end": {"t": {"attempt": 0, "status": None, "artifacts": {"x": 1}}}}
    assert E.diff(base, base) == []
    changed = {"end": {"t": {"attempt": 0, "status": None, "artifacts": {"x": 2}}}}
    assert E.diff(base, changed) == ["end/t.x: a=1 b=2"]
    assert E.diff(base, {"end": {}})
    assert E.diff(base, {"end": {"t": {"attempt": 1, "status": None, "artifacts": {"x": 1}}}})
    assert E.canonical(("r1", ValueError("in r1")), "r1") == ["tuple", "<run-id>",
                                                              {"type": "ValueError", "repr": "ValueError('in <run-id>')"}]


PEEK = '''
import os

from metaflow import FlowSpec, step


class PeekFlow(FlowSpec):
    @step
    def start(self):
        name = "".join(["da", "ta.txt"])      # not a literal path: not packaged
        self.sees_flow_folder = os.path.exists(name)
        self.cwd_entries = sorted(os.listdir("."))
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_tasks_start_in_an_empty_directory_without_the_flow_folder(tmp_path, sfn_moto, monkeypatch):  # noqa: F811
    """A file beside the flow that the code package does not hold is out of reach on every engine:
    the step's working directory holds the code package (the runtime unpacks it there) and nothing
    else of the flow's folder."""
    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    (flow_dir / "peek.py").write_text(PEEK)
    (flow_dir / "data.txt").write_text("beside the flow\n")
    local, argo, sfn = three_ways(str(flow_dir / "peek.py"), {}, tmp_path, sfn_moto, monkeypatch)
    assert_identical(local, argo, sfn)
    assert local["start"]["t"]["artifacts"]["sees_flow_folder"] is False
    assert local["start"]["t"]["artifacts"]["cwd_entries"] == ["list", "peek.py"]
