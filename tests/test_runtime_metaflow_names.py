"""The names real flows import from `metaflow` inside their steps (collected from Metaflow's own
test flows and public example repositories; runtime_shim/README.md has the table) work under
flowc's runtime, or fail with "not supported by flowc: metaflow.NAME"."""
from __future__ import annotations

from click.testing import CliRunner

from compiler.cli import main

FLOW = '''
from metaflow import FlowSpec, Step, current, namespace, parallel_map, profile, step


class NamesFlow(FlowSpec):
    @step
    def start(self):
        from metaflow import metaflow_version
        from metaflow.metaflow_version import get_version
        from metaflow.exception import MetaflowException, MetaflowNotFound

        self.version = metaflow_version.get_version()
        assert get_version() == self.version
        assert issubclass(MetaflowNotFound, MetaflowException)
        self.x = 41
        self.where = (current.flow_name, current.step_name, current.is_running_flow, current.is_production)
        stats = {}
        with profile("squares", stats_dict=stats):
            self.squares = parallel_map(lambda v: v * v, range(6), max_parallel=3)
        self.timed = sorted(stats)
        self.next(self.end)

    @step
    def end(self):
        namespace(None)
        self.seen = Step("%s/%s/start" % (current.flow_name, current.run_id)).task.data.x + 1
        from metaflow import S3
        try:
            with S3(run=self) as s3:
                s3.get("x")
        except Exception as error:       # the flow chooses what to do with it
            self.s3_error = "%s: %s" % (type(error).__name__, error)
'''

UNSUPPORTED_USE = '''
from metaflow import FlowSpec, step


class UsesS3Flow(FlowSpec):
    @step
    def start(self):
        from metaflow import S3
        S3(run=self).get("key")
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _run(tmp_path, text, name):
    flow = tmp_path / name
    flow.write_text(text)
    ds = "file://" + str(tmp_path / "ds")
    result = CliRunner().invoke(main, ["run", str(flow), "--datastore", ds, "--run-id", "r1"])
    return result, ds


def test_names_flows_use_inside_steps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result, ds = _run(tmp_path, FLOW, "names.py")
    assert result.exit_code == 0, result.output
    from runtime_shim.client import Run

    data = Run("NamesFlow/r1", datastore=ds).data
    start = Run("NamesFlow/r1", datastore=ds)
    assert data.seen == 42
    assert data.s3_error == "NotSupportedByFlowc: not supported by flowc: metaflow.S3 (runtime_shim/README.md lists what is)"
    task = [s for s in start.steps() if s.id == "start"][0].task
    assert task.data.version.endswith("+flowc")
    assert task.data.where == ("NamesFlow", "start", True, False)
    assert task.data.squares == [0, 1, 4, 9, 16, 25] and task.data.timed == ["squares"]


def test_an_unsupported_name_fails_the_task_with_its_name(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    result, _ = _run(tmp_path, UNSUPPORTED_USE, "s3.py")
    assert result.exit_code == 1
    out = result.output + "".join(capfd.readouterr())
    assert "not supported by flowc: metaflow.S3" in out


def test_unknown_names_still_work_as_decorators():
    from runtime_shim import api

    mod = api.install()

    @mod.some_future_decorator(option=1)
    def f():
        return 7

    assert f() == 7 and mod.another_decorator(f) is f
    import pytest

    from runtime_shim.api_extras import NotSupportedByFlowc

    with pytest.raises(NotSupportedByFlowc, match="metaflow.some_thing.attr"):
        mod.some_thing.attr
    with pytest.raises(NotSupportedByFlowc, match="metaflow.FlowMutator"):
        type("M", (mod.FlowMutator,), {})
