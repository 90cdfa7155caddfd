"""The four shapes a real Argo used to refuse at run time, each now refused at compile time with a
code or run correctly on the model: a 120-pass recursive switch, a step named like an expr-lang
keyword, a 150 KiB IncludeFile, and a cron Argo's parser rejects."""
from __future__ import annotations

import os
import textwrap

import pytest

from compiler import settings as S
from compiler.pipeline import compile_file
from compiler.targets.argo import dag

from .executor import ERRORED, FAILED, SUCCEEDED, PodHook
from .harness import run_flow
from .rules import MAX_DEPTH_MESSAGE

RECURSIVE = '''\
from metaflow import FlowSpec, step


class LoopFlow(FlowSpec):
    @step
    def start(self):
        self.i = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.i += 1
        self.state = "again" if self.i < {passes} else "done"
        self.next({{"again": self.loop, "done": self.finish}}, condition="state")

    @step
    def finish(self):
        self.next(self.end)

    @step
    def end(self):
        assert self.i == {passes}, self.i
'''


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _loop_hook(passes, seen):
    """Stands in for every pod: the loop step chooses itself until `passes` (None: forever)."""
    def run(template, argv, env):
        step = argv[argv.index("--step") + 1]
        out = argv[argv.index("--output-dir") + 1]
        if step == "loop":
            i = int(argv[argv.index("--iteration") + 1])
            seen.append(i)
            with open(os.path.join(out, "branch"), "w") as f:
                f.write("loop" if passes is None or i < passes - 1 else "finish")
        return 0
    return PodHook(lambda t: True, run)


def test_120_pass_recursive_switch_runs_on_the_model(tmp_path):
    seen: list[int] = []
    path = _write(tmp_path, "loop_flow.py", RECURSIVE.format(passes=120))
    ex, root, lines = run_flow(path, tmp_path, hooks=[_loop_hook(120, seen)])
    assert root.phase == SUCCEEDED, root.message
    assert sorted(seen) == list(range(120))
    steps = [p["argv"][p["argv"].index("--step") + 1] for p in ex.pods]
    assert steps.count("finish") == 1 and steps.count("end") == 1


def test_recursive_switch_bound_is_what_fc316_says(tmp_path):
    """A loop that never ends stops at the stack depth limit, after the passes FC316 announces."""
    seen: list[int] = []
    path = _write(tmp_path, "loop_flow.py", RECURSIVE.format(passes=10 ** 6))
    ex, root, lines = run_flow(path, tmp_path, hooks=[_loop_hook(None, seen)])
    assert root.phase == FAILED and MAX_DEPTH_MESSAGE in root.message
    assert len(seen) == dag.max_passes(2) == 970
    st = S.resolve({"datastore": "s3://b/p"}, flow_dir="/", environ={})
    result = compile_file(path, "argo", settings=st)
    warning = next(d for d in result.diagnostics if d.code == "FC316")
    assert "970 passes" in warning.message and warning.span.line == 11


def test_recursive_switch_crosses_the_unrolled_loop_with_real_pods(tmp_path):
    path = _write(tmp_path, "loop_flow.py", RECURSIVE.format(passes=12))
    ex, root, lines = run_flow(path, tmp_path)
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-30:])


def test_steps_named_like_expr_keywords_run(tmp_path):
    path = _write(tmp_path, "kw_flow.py", '''\
        from metaflow import FlowSpec, step


        class KwFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.contains, self.matches)

            @step
            def contains(self):
                self.x = 1
                self.next(self.let)

            @step
            def matches(self):
                self.x = 2
                self.next(self.let)

            @step
            def let(self, inputs):
                self.total = sum(i.x for i in inputs)
                self.next(self.nil)

            @step
            def nil(self):
                self.next(self.end)

            @step
            def end(self):
                assert self.total == 3
        ''')
    ex, root, lines = run_flow(path, tmp_path)
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-30:])
    tasks = {n.name for n in root.children}
    assert "contains" not in tasks and any(t.startswith("contains-") for t in tasks)
    assert {p["argv"][p["argv"].index("--step") + 1] for p in ex.pods} == {
        "start", "contains", "matches", "let", "nil", "end"}


INCLUDE = '''\
    from metaflow import FlowSpec, IncludeFile, step


    class IncFlow(FlowSpec):
        data = IncludeFile("data", default="data.txt")

        @step
        def start(self):
            self.size = len(self.data)
            self.next(self.end)

        @step
        def end(self):
            assert self.size == {size}, self.size
    '''


def test_150_kib_include_file_travels_in_the_package(tmp_path):
    """Too large for a workflow argument: the argument names the packaged file (the content is in
    the code package anyway), and the start task reads it there."""
    from runtime_shim.params import PACKAGED_FILE

    (tmp_path / "data.txt").write_text("x" * (150 * 1024))
    path = _write(tmp_path, "inc_flow.py", INCLUDE.format(size=150 * 1024))
    st = S.resolve({"datastore": "s3://b/p"}, flow_dir="/", environ={})
    result = compile_file(path, "argo", settings=st)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    template = next(d for f in result.files for d in f.documents if d.get("kind") == "WorkflowTemplate")
    assert {p["name"]: p.get("value") for p in template["spec"]["arguments"]["parameters"]}["data"] \
        == PACKAGED_FILE + "data.txt"
    ex, root, lines = run_flow(path, tmp_path / "run")
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-30:])


def test_largest_include_file_that_fits_runs(tmp_path):
    size = 90 * 1024
    (tmp_path / "data.txt").write_text("y" * size)
    path = _write(tmp_path, "inc_flow.py", INCLUDE.format(size=size))
    ex, root, lines = run_flow(path, tmp_path)
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-30:])
    # the same content given at submission: accepted by the model up to the exec limit...
    ex, root, lines = run_flow(path, tmp_path / "again", {"data": "z" * (150 * 1024)})
    # ...past it the start pod cannot exec (E2BIG), as on a cluster
    assert root.phase == FAILED and "E2BIG" in root.message


def test_include_files_over_the_v35_template_budget_are_refused(tmp_path):
    """Two IncludeFiles small enough to be carried as content (60 KiB each) but together over the
    one environment string Argo v3.5 puts every template value in."""
    (tmp_path / "a.txt").write_text("y" * (60 * 1024))
    (tmp_path / "b.txt").write_text("z" * (60 * 1024))
    path = _write(tmp_path, "inc_flow.py", INCLUDE.format(size=60 * 1024).replace(
        'data = IncludeFile("data", default="data.txt")',
        'data = IncludeFile("data", default="a.txt")\n        more = IncludeFile("more", default="b.txt")'))
    st = S.resolve({"datastore": "s3://b/p", "argo_version": "3.5"}, flow_dir="/", environ={})
    result = compile_file(path, "argo", settings=st)
    assert "FC317" in [d.code for d in result.diagnostics if d.is_error]
    assert compile_file(path, "argo", settings=S.resolve({"datastore": "s3://b/p"}, flow_dir="/", environ={})).ok


@pytest.mark.parametrize("cron,col", [("0 6 L * *", 20), ("0 6 * * MON#1", 20), ("0 0 * * 7", 20),
                                      ("*/0 * * * *", 20), ("0 6 * *", 20), ("0 0 0 6 * *", 20),
                                      ("@every 1 hour", 20)])
def test_cron_forms_argo_refuses_fail_with_fc309(tmp_path, cron, col):
    path = _write(tmp_path, "cron_flow.py", '''\
        from metaflow import FlowSpec, schedule, step


        @schedule(cron=%r)
        class CronFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        ''' % cron)
    st = S.resolve({"datastore": "s3://b/p"}, flow_dir="/", environ={})
    result = compile_file(path, "argo", settings=st)
    d = next((d for d in result.diagnostics if d.code == "FC309"), None)
    assert d is not None and d.is_error, [(x.code, x.message) for x in result.diagnostics]
    assert (d.span.line, d.span.col) == (4, 16), d.span


def test_keyword_step_in_executor_without_the_rename_errors():
    """The rename is what makes the keyword flow run: Argo's depends cannot say `contains`."""
    from .rules import WorkflowError, evaluate_depends
    from .executor import Node

    with pytest.raises(WorkflowError):
        evaluate_depends("contains.Succeeded", {"contains": Node("contains", SUCCEEDED)})
    assert ERRORED == "Error"


def test_hostile_values_fit_the_v35_template_environment(tmp_path):
    """On v3.5 the start template (with every value, base64) is the ARGO_TEMPLATE env string."""
    from runtime_shim.client import Run
    from tests.hostile_values import CONTROL, TEMPLATES, check, hostile_flow, values

    marker = str(tmp_path / "PWNED")
    path = hostile_flow(tmp_path, marker, n_given=len(TEMPLATES) - len(CONTROL), argo=True)
    given = {"g%d" % i: v for i, v in enumerate(values(marker, argo=True))}
    ex, root, lines = run_flow(path, tmp_path, given, argo_version="3.5")
    assert root.phase == SUCCEEDED, root.message
    check(Run("HostileFlow/" + ex.run_id, datastore="file://%s/datastore" % tmp_path)["start"].task.data,
          marker, given, argo=True)


def test_cli_argo_version_flag(tmp_path):
    from click.testing import CliRunner

    from compiler.cli import main

    flow = os.path.join(os.path.dirname(__file__), "..", "flows", "shared", "valid", "scheduled.py")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", flow, "--target", "argo", "--argo-version", "3.5",
                                       "--datastore", "s3://b/p", "-o", str(out)])
    assert result.exit_code == 0, result.output
    cron = next(p for p in out.iterdir() if p.name.endswith("-cron.yaml")).read_text()
    assert "\n  schedule: 0 6 * * *\n" in cron and "schedules" not in cron
