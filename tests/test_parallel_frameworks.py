"""@pytorch_parallel, @torchrun, @metaflow_ray and @deepspeed: @parallel steps that start a
framework. flowc runs them as @parallel and says it starts no framework (FC222), instead of calling
them unknown and then refusing the num_parallel split (FC204 + FC120)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from compiler.decorators import PARALLEL_FRAMEWORKS
from compiler.frontend.api import analyze_file
from compiler.pipeline import compile_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FLOW = '''from metaflow import FlowSpec, current, step, {deco}


class GangFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @{deco}(all_nodes_started_timeout=60)
    @step
    def train(self):
        self.rank = current.parallel.node_index
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ranks = sorted(i.rank for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.ranks == [0, 1], self.ranks
'''


@pytest.mark.parametrize("deco", sorted(PARALLEL_FRAMEWORKS))
def test_a_framework_decorator_is_a_parallel_step(tmp_path, deco):
    flow = tmp_path / "gang.py"
    flow.write_text(FLOW.format(deco=deco))
    codes = [(d.code, d.is_error) for d in analyze_file(str(flow)).diagnostics]
    assert codes == [("FC222", False)], codes
    from compiler.settings import resolve

    settings = resolve({"datastore": "s3://b/p", "batch_queue": "q"}, flow_dir=str(tmp_path), environ={})
    sfn = compile_file(str(flow), "stepfunctions", settings=settings)
    assert [d.code for d in sfn.diagnostics if d.is_error] == ["FC413"]       # as @parallel: no gang
    argo = compile_file(str(flow), "argo", settings=settings)
    assert argo.ok and "FC312" in [d.code for d in argo.diagnostics]           # warned, as @parallel


def test_it_runs_locally_as_parallel(tmp_path):
    flow = tmp_path / "gang.py"
    flow.write_text(FLOW.format(deco="torchrun"))
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "run", str(flow), "--datastore",
                           "file://" + str(tmp_path / "ds")], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "train 2/2" in done.stdout + done.stderr
