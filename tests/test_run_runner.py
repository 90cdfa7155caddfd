"""`flowc run` itself: bad input before any task, scheduling shapes, env, show, code package."""
import os
import subprocess
import sys
import zipfile

import pytest

from tests.runtime_fixtures import REPO, SHARED_VALID, file_root, run, write_flow


@pytest.mark.parametrize("flow,params,message", [
    ("parameters.py", (), "missing required parameter 'who'"),
    ("parameters.py", ("who=x", "nope=1"), "unknown parameter"),
    ("parameters.py", ("who=x", "rounds=many"), "bad value 'many' for parameter 'rounds'"),
    ("parameters.py", ("who=x", "verbose=perhaps"), "parameter 'verbose'"),
    ("parameters.py", ("who=x", "config={bad"), "parameter 'config'"),
    ("parameters.py", ("who",), "use name=value"),
    ("include_file.py", ("table=/no/such/file.csv",), "no such file"),
])
def test_bad_input_fails_before_any_task(tmp_path, flow, params, message):
    root = file_root(tmp_path)
    code, rid, out = run(os.path.join(SHARED_VALID, flow), *params, datastore=root)
    assert code == 2, out
    assert message in out
    assert not os.path.exists(os.path.join(str(tmp_path), "ds"))   # nothing ran, nothing written


def test_bad_run_id_and_datastore(tmp_path):
    code, _, out = run(os.path.join(SHARED_VALID, "hello.py"), datastore=file_root(tmp_path),
                       run_id="a/b")
    assert code == 2 and "run-id" in out
    code, _, out = run(os.path.join(SHARED_VALID, "hello.py"), datastore="ftp://x")
    assert code == 2


def test_run_id_reuse_is_refused(tmp_path):
    root = file_root(tmp_path)
    assert run(os.path.join(SHARED_VALID, "hello.py"), datastore=root, run_id="r1")[0] == 0
    code, _, out = run(os.path.join(SHARED_VALID, "hello.py"), datastore=root, run_id="r1")
    assert code == 2 and "already exists" in out


SHAPES = '''
import os
from metaflow import FlowSpec, step, environment

class ShapesFlow(FlowSpec):
    @environment(vars={"MY_VAR": "hello"})
    @step
    def start(self):
        assert os.environ["MY_VAR"] == "hello"
        self.items = [1, 2, 3, 4]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.k = "big" if self.input > 2 else "small"
        self.next({"big": self.big, "small": self.small}, condition="k")

    @step
    def big(self):
        self.v = self.input * 100
        self.next(self.j)

    @step
    def small(self):
        self.v = self.input
        self.next(self.j)

    @step
    def j(self, inputs):
        self.vs = [i.v for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert "MY_VAR" not in os.environ
        assert self.vs == [1, 2, 300, 400], self.vs
'''


@pytest.mark.parametrize("workers", [1, 8])
def test_switch_inside_foreach_and_environment(tmp_path, workers):
    path = write_flow(tmp_path, SHAPES)
    code, rid, out = run(path, datastore=file_root(tmp_path), max_workers=workers)
    assert code == 0, out


def test_cli_run_and_show(tmp_path):
    flow = os.path.join(str(tmp_path), "hello.py")
    with open(os.path.join(SHARED_VALID, "hello.py")) as src, open(flow, "w") as dst:
        dst.write(src.read())
    env = dict(os.environ)
    env.pop("FLOWC_DATASTORE", None)
    cmd = [sys.executable, "-m", "compiler.cli"]
    p = subprocess.run(cmd + ["run", flow], cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rid = p.stdout.strip().splitlines()[-1]
    # one line per task start and end, output prefixed by step/task, the run id said once
    assert "hello/t started\n" in p.stdout and "end/t | hello world\n" in p.stdout
    assert rid not in p.stdout.replace(rid + "\n", "", 1)
    assert os.path.isdir(os.path.join(str(tmp_path), ".flowc", "HelloFlow", "runs", rid))
    root = "file://" + os.path.join(str(tmp_path), ".flowc")
    p = subprocess.run(cmd + ["show", "HelloFlow/" + rid], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True)     # finds ./.flowc like run did
    assert p.returncode == 0, p.stderr
    assert "greeting = 'hello world'" in p.stdout and "successful" in p.stdout
    p = subprocess.run(cmd + ["show", "HelloFlow/%s/end" % rid, "--datastore", root], cwd=REPO,
                       capture_output=True, text=True)
    assert p.returncode == 0 and "step end" in p.stdout and "step start" not in p.stdout
    p = subprocess.run(cmd + ["run", flow, "--param", "x=1"], cwd=REPO, capture_output=True,
                       text=True)
    assert p.returncode == 2 and "unknown parameter" in p.stderr


def test_code_package_is_deterministic_and_complete(tmp_path):
    from compiler import codepackage

    d = tmp_path / "proj"
    (d / "helpers").mkdir(parents=True)
    (d / "helpers" / "__init__.py").write_text("X = 1\n")
    (d / "helpers" / "deep.py").write_text("Y = 2\n")
    (d / "util.py").write_text("import helpers.deep\n")
    (d / "unused.py").write_text("")
    (d / "data.csv").write_text("a,b\n")
    (d / "flow.py").write_text("import util\nfrom helpers import X\nimport os, numpy\n")
    a = codepackage.build(str(d / "flow.py"), b'{"k": 1}', include_globs=["*.csv"])
    b = codepackage.build(str(d / "flow.py"), b'{"k": 1}', include_globs=["*.csv"])
    assert a == b
    assert codepackage.build(str(d / "flow.py"), b'{"k": 2}')[1] != a[1]
    import hashlib
    import io

    assert hashlib.sha256(a[0]).hexdigest() == a[1]
    z = zipfile.ZipFile(io.BytesIO(a[0]))
    names = z.namelist()
    assert names == sorted(names)
    assert {"flow/flow.py", "flow/util.py", "flow/helpers/__init__.py", "flow/helpers/deep.py",
            "flow/data.csv", "flowc.json", "runtime_shim/__main__.py", "runtime_shim/task.py",
            "runtime_shim/api.py", "runtime_shim/datastore.py"} <= set(names)
    assert "flow/unused.py" not in names
    for info in z.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert (info.external_attr >> 16) == 0o100644
    # bytecode only for the runtime (zipimport cannot cache it): next to each runtime module
    assert {n for n in names if n.endswith(".pyc")} == {
        n + "c" for n in names if n.startswith("runtime_shim/") and n.endswith(".py")}


def test_runtime_never_imports_compiler():
    import ast
    import glob

    for path in glob.glob(os.path.join(REPO, "runtime_shim", "*.py")):
        tree = ast.parse(open(path).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "compiler" for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "compiler", path


def test_task_startup_imports_are_light(tmp_path):
    code = ("import sys, runtime_shim.task, runtime_shim.api, runtime_shim.datastore; "
            "bad = [m for m in ('boto3', 'botocore', 'compiler', 'numpy', 'click', 'yaml') "
            "if m in sys.modules]; print(bad)")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert p.stdout.strip() == "[]", p.stdout + p.stderr


PARALLEL = '''
from metaflow import FlowSpec, step, parallel, current

class ParFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        self.node = current.parallel.node_index
        assert current.parallel.num_nodes == 3
        self.next(self.join)

    @step
    def join(self, inputs):
        self.nodes = [i.node for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.nodes == [0, 1, 2], self.nodes
'''


def test_num_parallel(tmp_path):
    code, rid, out = run(write_flow(tmp_path, PARALLEL), datastore=file_root(tmp_path))
    assert code == 0, out


def test_progress_on_a_tty():
    import io

    from compiler.runner.progress import Progress

    buf = io.StringIO()
    p = Progress(["start", "square", "end"], stream=buf, tty=True)
    p.scheduled("start")
    p.task_started("start", "t", 0)
    p.task_output("start", "t", 0, "hello")
    p.task_finished("start", "t", 0, 0, 0.25, "ok")
    for i in range(3):
        p.scheduled("square")
    p.task_started("square", "t-0", 0)
    p.task_started("square", "t-1", 0)
    p.task_finished("square", "t-0", 0, 0, 0.1, "ok")
    assert p.status().startswith("start 1/1 · square 1/3 running 1 · failed 0 · ")
    p.task_finished("square", "t-1", 0, 1, 0.1, "failed")
    p.close()
    text = buf.getvalue()
    assert "\r\x1b[K" in text and "start/t | hello\n" in text and "start/t ok 0.2s\n" in text
    assert "square/t-1 FAILED (exit 1)" in text
    assert text.rstrip("\n").rsplit("\r\x1b[K", 1)[-1].startswith("start 1/1 · square 1/3 · failed 1 · ")


def test_flow_with_diagnostics_is_not_run(tmp_path):
    path = os.path.join(os.path.dirname(SHARED_VALID), "invalid", "cycle.py")
    code, rid, out = run(path, datastore=file_root(tmp_path))
    assert code == 1, out
    assert "FC" in out                                   # the diagnostics are printed
    assert not os.path.exists(os.path.join(str(tmp_path), "ds"))
