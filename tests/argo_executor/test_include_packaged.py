"""IncludeFile defaults that a workflow argument cannot carry (too large, or bytes) travel in the
code package on Argo: the argument names the packaged file, the start task reads it there. The
defaults are written as Metaflow's tutorials write them, `os.path.join(os.path.dirname(__file__),
name)` in a helper function, which the front end follows (compiler/frontend/static_calls.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runtime_shim.params import PACKAGED_FILE, ParamError, resolve

from .executor import SUCCEEDED
from .harness import compile_docs, run_flow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLOW = '''import os

from metaflow import FlowSpec, IncludeFile, step


def here(filename):
    """Beside this file, wherever the flow is started from (as in Metaflow's tutorials)."""
    folder = os.path.join(os.path.dirname(__file__))
    return os.path.join(folder, filename)


class BigIncludeFlow(FlowSpec):
    big = IncludeFile("big", default=here("big.txt"))
    blob = IncludeFile("blob", default=here("blob.bin"), is_text=False)
    small = IncludeFile("small", default=here("small.txt"))

    @step
    def start(self):
        self.big_lines = len(self.big.splitlines())
        self.next(self.end)

    @step
    def end(self):
        assert self.big_lines == 20000 and self.big.startswith("line 0\\n"), self.big[:20]
        assert self.blob == bytes(range(256)) * 4, self.blob[:8]
        assert self.small == "hello\\n"
'''


def _flow(tmp_path):
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "big_include.py").write_text(FLOW)
    (folder / "big.txt").write_text("".join("line %d\n" % i for i in range(20000)))    # ~200 KB
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (folder / "small.txt").write_text("hello\n")
    return str(folder / "big_include.py")


def test_large_and_binary_defaults_name_the_packaged_file(tmp_path):
    docs = compile_docs(_flow(tmp_path), "file:///ds")
    template = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    values = {p["name"]: p.get("value") for p in template["spec"]["arguments"]["parameters"]}
    assert values["big"] == PACKAGED_FILE + "big.txt"
    assert values["blob"] == PACKAGED_FILE + "blob.bin"
    assert values["small"] == "hello\n"                # small text is still carried as content
    assert "/" + str(tmp_path).strip("/") not in str(docs)     # no path of the compiling machine


def test_they_run_on_the_argo_executor_and_locally(tmp_path):
    flow = _flow(tmp_path)
    ex, root, lines = run_flow(flow, tmp_path)
    assert root.phase == SUCCEEDED, "\n".join(lines[-40:])
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "run", flow, "--datastore",
                           "file://" + str(tmp_path / "local")], capture_output=True, text=True, timeout=300,
                          cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("ref", ["../secret.txt", "/etc/passwd", "", "missing.txt"])
def test_a_packaged_file_reference_stays_inside_the_package(tmp_path, ref):
    (tmp_path / "data.txt").write_text("x")
    declared = [{"name": "data", "attr": "data", "kind": "include_file", "type": "str", "is_text": True,
                 "has_default": False, "default": None}]
    assert resolve(declared, {"data": PACKAGED_FILE + "data.txt"}, str(tmp_path)) == {"data": "x"}
    with pytest.raises(ParamError, match="code package"):
        resolve(declared, {"data": PACKAGED_FILE + ref}, str(tmp_path))
