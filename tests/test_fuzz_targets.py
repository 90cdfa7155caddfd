"""Fuzzing beyond the front end: random valid flow graphs (tests/flowgen.py, seeded: linear
chains, static splits, nested foreach, switches, random names) compile on both targets to
documents that pass the strict Argo schema + Hera strict models + Kubernetes name rules
(tests/argo/validate.py) and asl-validator (tests/stepfunctions/helpers.py). A sample of them
runs on all three engines in tests/parity (FLOWC_PARITY_SEEDS), every artifact compared."""
from __future__ import annotations

import os

import yaml

from tests.flowgen import flow_source

N_GRAPHS = int(os.environ.get("FLOWC_FUZZ_GRAPHS", "30"))      # compiled and validated, both targets


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
