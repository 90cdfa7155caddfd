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


def run_flow(path: str, tmp_path, arguments=None, *, hooks=(), extra_env=None, **flags):
    datastore = "file://" + str(tmp_path / "datastore")
    os.makedirs(tmp_path / "datastore", exist_ok=True)
    docs = compile_docs(path, datastore, **flags)
    lines: list[str] = []
    ex = Executor(docs, arguments, workdir=str(tmp_path / "exec"), backoff_scale=0.0,
                  extra_env=extra_env, log=lines.append)
    os.makedirs(ex.workdir, exist_ok=True)
    ex.hooks.extend(hooks)
    root = ex.run()
    return ex, root, lines


def runtime_accepts_param() -> bool:
    """Whether runtime_shim's task CLI takes `--param NAME=VALUE` (what the Argo target emits)."""
    import inspect

    import runtime_shim.task as task

    return '"--param"' in inspect.getsource(task)


def param_adapter():
    """A documented stand-in until the runtime's task CLI accepts `--param NAME=VALUE`: the pod's
    argv is run for real, except that the `--param` pairs are turned into one `--params-json`
    (built with json.dumps, so values stay data). An empty value means "not given" (the workflow
    argument of a parameter whose default is None is ""). Returns None when the runtime has it."""
    import subprocess
    import json as _json

    from .executor import PodHook

    if runtime_accepts_param():
        return None

    def match(template):
        return "--param" in (template.get("container") or {}).get("args", [])

    def run(template, argv, env):
        out, params, i = [], {}, 0
        while i < len(argv):
            if argv[i] == "--param":
                name, _, value = argv[i + 1].partition("=")
                if value != "":
                    params[name] = value
                i += 2
            else:
                out.append(argv[i])
                i += 1
        out += ["--params-json", _json.dumps(params)]
        return subprocess.run(out, env=env, cwd=env.get("HOME")).returncode

    return PodHook(match, run)
