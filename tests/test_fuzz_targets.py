"""Fuzzing beyond the front end: random valid flow graphs (tests/flowgen.py, seeded: linear
chains, static splits, nested foreach, switches, random names) compile on both targets to
documents that pass the strict Argo schema + Hera strict models + Kubernetes name rules
(tests/argo/validate.py) and asl-validator (tests/stepfunctions/helpers.py); a sample of them
runs through `flowc run`, the Argo executor and moto's ASL interpreter, and every engine ends with
the same `result` artifact (each step records its name, and its input in a foreach)."""
from __future__ import annotations

import os
import uuid

import pytest
import yaml

from tests.flowgen import flow_source
from tests.stepfunctions.conftest import _sfn_job_runner, sfn_moto  # noqa: F401  (fixtures)

N_GRAPHS = int(os.environ.get("FLOWC_FUZZ_GRAPHS", "30"))      # compiled and validated, both targets
EXEC_SEEDS = [int(s) for s in os.environ.get("FLOWC_FUZZ_EXEC", "0,8").split(",")]   # run on all engines


def _write(tmp_path, seed):
    src, cls = flow_source(seed)
    path = tmp_path / ("fuzz_%d.py" % seed)
    path.write_text(src)
    return str(path), cls


def test_random_graphs_compile_to_valid_documents(tmp_path):
    from compiler import settings as S
    from compiler.pipeline import compile_file
    from tests.argo.validate import validate_all
    from tests.stepfunctions import helpers as h

    st = S.resolve({"datastore": "s3://b/ds", "branch": "fuzz", "batch_queue": "q"}, flow_dir="/", environ={})
    asl_paths, steps = [], 0
    for seed in range(N_GRAPHS):
        path, _ = _write(tmp_path, seed)
        result = compile_file(path, "argo", settings=st)
        assert result.ok, (seed, [(d.code, d.message) for d in result.diagnostics if d.is_error])
        for f in result.files:
            for doc in yaml.safe_load_all(f.content):
                validate_all(doc)
        files, diags = h.emit(path)
        assert files, (seed, [(d.code, d.message) for d in diags if d.is_error])
        for f in files:
            if f.name.endswith(".asl.json"):
                p = tmp_path / ("fuzz_%d.asl.json" % seed)
                p.write_bytes(f.content if isinstance(f.content, bytes) else f.content.encode())
                asl_paths.append(str(p))
        steps += open(path).read().count("@step")
    h.asl_validate(asl_paths)
    print("fuzz: %d graphs, %d steps, compiled for argo + stepfunctions and validated" % (N_GRAPHS, steps))


def _flowc_run(path, tmp_path, cls):
    from runtime_shim.client import Run
    from tests.runtime_fixtures import run

    root = "file://" + str(tmp_path / "local-ds")
    code, rid, out = run(path, datastore=root, max_workers=4)
    assert code == 0, out
    return Run("%s/%s" % (cls, rid), datastore=root)["end"].task.data.result


def _argo_run(path, tmp_path, cls):
    from runtime_shim.client import Run
    from tests.argo_executor.executor import SUCCEEDED
    from tests.argo_executor.harness import run_flow

    ex, root, lines = run_flow(path, tmp_path / "argo", {})
    assert root.phase == SUCCEEDED, root.message + "\n".join(lines[-30:])
    return Run("%s/%s" % (cls, ex.run_id), datastore="file://%s/argo/datastore" % tmp_path)["end"].task.data.result


def _sfn_run(path, sfn_moto, cls, monkeypatch):
    from compiler.pipeline import compile_file
    from runtime_shim.client import Run
    from tests.stepfunctions import helpers as h

    settings = h.make_settings(datastore="s3://flowc-fuzz/ds", s3_endpoint=sfn_moto.endpoint, batch_queue="flowc-queue",
                               max_workers=32, batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(path, "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="fuzz-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    desc = sfn_moto.run(arn, run_id, {}, timeout=240)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), str(desc.get("cause"))[:2000])
    monkeypatch.setenv("AWS_ENDPOINT_URL", sfn_moto.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return Run("%s/%s" % (cls, run_id), datastore="s3://flowc-fuzz/ds")["end"].task.data.result


@pytest.mark.parametrize("seed", EXEC_SEEDS)
def test_random_graph_runs_alike_on_every_engine(tmp_path, seed, sfn_moto, monkeypatch):
    path, cls = _write(tmp_path, seed)
    (tmp_path / "argo").mkdir()
    local = _flowc_run(path, tmp_path, cls)
    assert local[0] == "start" and local[-1] == "end"
    assert _argo_run(path, tmp_path, cls) == local
    assert _sfn_run(path, sfn_moto, cls, monkeypatch) == local
