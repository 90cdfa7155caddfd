"""The metaflow API subset inside tasks: merge_artifacts, inputs, foreach_stack, current,
parameters, catch/timeout/retry, recursive switches, custom start/end steps."""
import os

import pytest

from tests.runtime_fixtures import file_root, run, write_flow


def _run_ok(tmp_path, source, *params):
    from runtime_shim.client import Run

    path = write_flow(tmp_path, source)
    root = file_root(tmp_path)
    code, rid, out = run(path, *params, datastore=root)
    assert code == 0, out
    name = [line for line in source.splitlines() if line.startswith("class ")][0]
    return Run("%s/%s" % (name.split()[1].split("(")[0], rid), datastore=root), out


MERGE = '''
from metaflow import FlowSpec, step

class MergeFlow(FlowSpec):
    @step
    def start(self):
        self.same = [1, 2]
        self.base = "b"
        self.next(self.a, self.b)

    @step
    def a(self):
        self.diff = 1
        self.only_a = "A"
        self.next(self.join)

    @step
    def b(self):
        self.diff = 2
        self.next(self.join)

    @step
    def join(self, inputs):
        import metaflow
        # without a merge nothing of the inputs is visible
        assert not hasattr(self, "same")
        try:
            self.merge_artifacts(inputs)
        except metaflow.MergeArtifactsException as e:
            assert e.artifact_names == ["diff"], e.artifact_names
        else:
            raise AssertionError("conflict not detected")
        assert not hasattr(self, "same")  # nothing set on a conflict
        try:
            self.merge_artifacts(inputs, include=["same"], exclude=["diff"])
        except metaflow.MetaflowException as e:
            assert "mutually exclusive" in str(e)
        else:
            raise AssertionError("include+exclude accepted")
        try:
            self.merge_artifacts(inputs, include=["nope"])
        except metaflow.MergeArtifactsException as e:
            assert e.artifact_names == ["nope"]
        else:
            raise AssertionError("missing include accepted")
        self.diff = 99          # set before merging: not overwritten, not a conflict
        self.merge_artifacts(inputs)
        assert self.diff == 99 and self.same == [1, 2] and self.only_a == "A"
        assert len(inputs) == 2 and inputs[0].diff == 1 and inputs.b.diff == 2
        assert [i.diff for i in inputs] == [1, 2]
        self.next(self.end)

    @step
    def end(self):
        assert self.diff == 99 and self.base == "b"
'''


def test_merge_artifacts_rules(tmp_path):
    r, _ = _run_ok(tmp_path, MERGE)
    assert r.data.diff == 99 and r.data.only_a == "A"


FOREACH = '''
from metaflow import FlowSpec, step, current, Parameter

class StackFlow(FlowSpec):
    n = Parameter("n", default=2, type=int)

    @step
    def start(self):
        assert current.step_name == "start" and current.is_running_flow
        assert current.pathspec == "StackFlow/%s/start/t" % current.run_id
        assert current.retry_count == 0 and current.origin_run_id is None
        self.outer = ["x", "y"]
        self.next(self.mid, foreach="outer")

    @step
    def mid(self):
        assert current.task_id == "t-%d" % self.index
        self.inner = list(range(self.n))
        self.next(self.leaf, foreach="inner")

    @step
    def leaf(self):
        st = self.foreach_stack()
        assert st[0][1] == 2 and st[1][1] == self.n
        assert st[0][2] == ["x", "y"][st[0][0]] and st[1][2] == self.input
        assert current.task_id == "t-%d-%d" % (st[0][0], st[1][0])
        self.tag = "%s%d" % (st[0][2], self.input)
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        assert [i.index for i in inputs] == list(range(self.n))
        self.tags = [i.tag for i in inputs]
        assert self.index == inputs[0].foreach_stack()[0][0]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.all = [t for i in inputs for t in i.tags]
        assert self.foreach_stack() == []
        self.next(self.end)

    @step
    def end(self):
        assert self.all == ["x0", "x1", "x2", "y0", "y1", "y2"], self.all
'''


def test_foreach_stack_and_current(tmp_path):
    r, _ = _run_ok(tmp_path, FOREACH, "n=3")
    assert r.data.all == ["x0", "x1", "x2", "y0", "y1", "y2"]
    assert [t.id for t in r["leaf"]] == ["t-%d-%d" % (i, j) for i in range(2) for j in range(3)]


RECURSIVE = '''
from metaflow import FlowSpec, step

class LoopFlow(FlowSpec):
    @step(start=True)
    def begin(self):
        self.count = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.count += 1
        self.more = "again" if self.count < 4 else "done"
        self.next({"again": self.loop, "done": self.finish}, condition="more")

    @step(end=True)
    def finish(self):
        assert self.count == 4, self.count
'''


def test_recursive_switch_and_custom_start_end(tmp_path):
    r, _ = _run_ok(tmp_path, RECURSIVE)
    assert [t.id for t in r["loop"]] == ["t", "t.1", "t.2", "t.3"]
    assert r.data.count == 4
    assert r.successful


CATCH = '''
from metaflow import FlowSpec, step, catch, retry, timeout, current

class CatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.retried)

    @catch(var="err")
    @retry(times=2, minutes_between_retries=0)
    @step
    def retried(self):
        self.seen = current.retry_count
        raise KeyError("attempt %d" % current.retry_count)
        self.next(self.timed)

    @retry(times=1, minutes_between_retries=0)
    @timeout(seconds=1)
    @step
    def timed(self):
        import time
        if current.retry_count == 0:
            time.sleep(10)
        self.ok = True
        self.next(self.end)

    @step
    def end(self):
        assert self.seen == 2, self.seen
        assert "attempt 2" in str(self.err)
        assert self.ok
'''


def test_catch_applies_on_last_attempt_and_timeout_retries(tmp_path):
    r, _ = _run_ok(tmp_path, CATCH)
    t = r["retried"].task
    assert t.attempt == 2 and t.status == "caught"
    assert r["timed"].task.attempt == 1


def test_failure_without_catch_fails_the_run(tmp_path):
    path = write_flow(tmp_path, '''
    from metaflow import FlowSpec, step

    class FailFlow(FlowSpec):
        @step
        def start(self):
            raise RuntimeError("boom")
            self.next(self.end)

        @step
        def end(self):
            pass
    ''')
    code, rid, out = run(path, datastore=file_root(tmp_path))
    assert code == 1
    assert "boom" in out


def test_switch_value_not_a_case_fails(tmp_path):
    path = write_flow(tmp_path, '''
    from metaflow import FlowSpec, step

    class BadSwitchFlow(FlowSpec):
        @step
        def start(self):
            self.route = "nowhere"
            self.next({"a": self.a, "b": self.b}, condition="route")

        @step
        def a(self):
            self.next(self.end)

        @step
        def b(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    ''')
    code, rid, out = run(path, datastore=file_root(tmp_path))
    assert code == 1
    assert "not a case" in out


def test_unknown_decorators_and_imports_do_not_crash(tmp_path):
    _run_ok(tmp_path, '''
from metaflow import FlowSpec, step, some_future_decorator, card, pypi, conda, project
from metaflow.cards import Markdown

@project(name="p")
class FutureFlow(FlowSpec):
    @some_future_decorator(x=1)
    @pypi(packages={"a": "1"})
    @card(type="blank")
    @step
    def start(self):
        from metaflow import current
        current.card.append(Markdown("hi"))
        assert current.project_name == "p"
        self.next(self.end)

    @some_future_decorator
    @step
    def end(self):
        pass
''')


def test_parameters_are_read_only(tmp_path):
    _run_ok(tmp_path, '''
from metaflow import FlowSpec, step, Parameter

class RoFlow(FlowSpec):
    p = Parameter("p", default="v")

    @step
    def start(self):
        try:
            self.p = "other"
        except AttributeError:
            self.blocked = True
        self.next(self.end)

    @step
    def end(self):
        assert self.blocked and self.p == "v"
''')


def test_real_metaflow_is_not_used(tmp_path):
    _run_ok(tmp_path, '''
import metaflow
from metaflow import FlowSpec, step

class WhichFlow(FlowSpec):
    @step
    def start(self):
        assert metaflow.__file__.endswith(("runtime_shim/api.py", "runtime_shim/api.pyc")), metaflow.__file__
        assert ".zip" in metaflow.__file__, metaflow.__file__   # the runtime of the code package
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    raise SystemExit("the main block must not run")
''')


@pytest.mark.parametrize("ptype,raw,expected", [
    ("int", "7", 7), ("float", "0.5", 0.5), ("bool", "Yes", True), ("bool", "0", False),
    ("bool", "FALSE", False), ("json", '{"a": [1]}', {"a": [1]}), ("str", "x", "x"),
])
def test_parameter_conversion(ptype, raw, expected):
    from runtime_shim.task import convert_value

    assert convert_value({"name": "p", "type": ptype}, raw) == expected


@pytest.mark.parametrize("ptype,raw", [("int", "x"), ("float", "1.2.3"), ("bool", "maybe"),
                                       ("json", "{nope")])
def test_parameter_conversion_errors(ptype, raw):
    from runtime_shim.task import UsageError, convert_value

    with pytest.raises(UsageError):
        convert_value({"name": "p", "type": ptype}, raw)


def test_parameter_defaults_and_required():
    from runtime_shim.task import UsageError, resolve_parameters

    spec = {"parameters": [
        {"name": "a-b", "attr": "a_b", "type": "json", "has_default": True, "default": "[1]"},
        {"name": "n", "attr": "n", "type": "int", "has_default": True, "default": 3},
        {"name": "who", "attr": "who", "type": "str", "required": True},
    ]}
    assert resolve_parameters(spec, {"who": "me"}) == {"a_b": [1], "n": 3, "who": "me"}
    with pytest.raises(UsageError, match="missing required"):
        resolve_parameters(spec, {})
    with pytest.raises(UsageError, match="unknown"):
        resolve_parameters(spec, {"who": "x", "zzz": "1"})


def test_unpicklable_artifact_and_sys_exit_fail_cleanly(tmp_path):
    for body, message in [("self.fh = __import__('threading').Lock()", "cannot be stored"),
                          ("import sys; sys.exit(0)", "SystemExit")]:
        path = write_flow(tmp_path, '''
from metaflow import FlowSpec, step

class BadArtFlow(FlowSpec):
    @step
    def start(self):
        %s
        self.next(self.end)

    @step
    def end(self):
        pass
''' % body)
        code, rid, out = run(path, datastore=file_root(tmp_path))
        assert code == 1, out
        assert message in out, out


def test_task_directories_are_removed(tmp_path, monkeypatch):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    r, _ = _run_ok(tmp_path, '''
import os
from metaflow import FlowSpec, step, current

class TmpFlow(FlowSpec):
    @step
    def start(self):
        assert os.path.isfile("flow.py")          # the flow directory is the cwd
        open("scratch.txt", "w").write("x")
        with open(os.path.join(current.tempdir, "t"), "w") as f:
            f.write("y")
        self.next(self.end)

    @step
    def end(self):
        assert not os.path.exists("scratch.txt")  # every task has its own directory
''')
    assert r.successful
    assert os.listdir(str(tmp)) == []
