"""Helpers for the runtime and runner tests: run flows in-process through `flowc run`'s code path,
build code packages for hand-written flows, and run single tasks as the containers do."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_VALID = os.path.join(HERE, "flows", "shared", "valid")
REPO = os.path.dirname(HERE)


def run(flow_path, *params, datastore, run_id=None, max_workers=None, include=()):
    """Run a flow like `flowc run`; returns (exit code, run_id or None, output text)."""
    from compiler.runner import run_flow

    out = io.StringIO()
    msgs = []
    code = run_flow(flow_path, params=params, datastore=datastore, run_id=run_id,
                    max_workers=max_workers, package_include=include, stream=out, tty=False,
                    echo=msgs.append)
    text = out.getvalue()
    lines = text.strip().splitlines()
    rid = lines[-1] if lines and code in (0, 1) else None
    return code, rid, "\n".join(msgs) + "\n" + text


def write_flow(tmp_path, source, name="flow.py"):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    return path


def file_root(tmp_path):
    return "file://" + os.path.join(str(tmp_path), "ds")


class Package:
    """A code package for a flow file, written to disk, to run single tasks with."""

    def __init__(self, flow_path, tmp_path, spec=None):
        from compiler import codepackage
        from compiler.runtime_spec import spec_for_file

        if spec is None:
            spec, diagnostics = spec_for_file(flow_path)
            assert spec is not None, diagnostics
        self.spec = spec
        data, self.sha = codepackage.build(flow_path, json.dumps(self.spec).encode())
        self.zip = os.path.join(str(tmp_path), "code-%s.zip" % self.sha[:12])
        with open(self.zip, "wb") as f:
            f.write(data)

    def task(self, datastore, run_id, step, index_path=(), attempt=0, iteration=0, params=None,
             env=None, output_dir=None, timeout=60):
        cmd = [sys.executable, "-m", "runtime_shim", "task", "--datastore", datastore,
               "--run-id", run_id, "--step", step,
               "--index-path", ",".join(map(str, index_path)), "--attempt", str(attempt),
               "--iteration", str(iteration)]
        if params is not None:
            cmd += ["--params-json", json.dumps(params)]
        if output_dir:
            cmd += ["--output-dir", str(output_dir)]
        e = dict(os.environ)
        e["PYTHONPATH"] = self.zip
        e["PYTHONSAFEPATH"] = "1"   # never pick up a runtime_shim from the current directory
        e.update(env or {})
        return subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout,
                              cwd=os.path.dirname(self.zip))
