"""Compile a flow for Argo with a local file:// datastore and run it through the executor."""
from __future__ import annotations

import os

import yaml

from compiler import settings as S
from compiler.pipeline import compile_file

from .executor import Executor


def compile_docs(path: str, datastore: str, **flags) -> list[dict]:
    st = S.resolve({"datastore": datastore, "branch": "exec", "batch_queue": "default-queue", **flags},
                   flow_dir="/", environ={})
    result = compile_file(path, "argo", settings=st)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return [yaml.safe_load(f.content) for f in result.files]


def run_flow(path: str, tmp_path, arguments=None, *, hooks=(), extra_env=None, images=None,
             argo_version="4.1", name=None, **flags):
    datastore = "file://" + str(tmp_path / "datastore")
    os.makedirs(tmp_path / "datastore", exist_ok=True)
    docs = compile_docs(path, datastore, **flags)
    lines: list[str] = []
    ex = Executor(docs, arguments, workdir=str(tmp_path / "exec"), backoff_scale=0.0,
                  extra_env=extra_env, log=lines.append, images=images, argo_version=argo_version, name=name)
    os.makedirs(ex.workdir, exist_ok=True)
    ex.hooks.extend(hooks)
    root = ex.run()
    return ex, root, lines
