"""Runs inside the Metaflow venv: Metaflow's front end on a flow file, in-process.

Import of the flow module (Metaflow's decorators run at import) + FlowGraph + the linter, i.e.
what `python FLOW.py check` does before it exits. Usage: python _metaflow_frontend_bench.py FLOW REPS
-> prints JSON {"times": [s, ...], "steps": n}
"""
import importlib.util
import json
import sys
import time

from metaflow import FlowSpec
from metaflow.graph import FlowGraph
from metaflow.lint import linter

path, reps = sys.argv[1], int(sys.argv[2])
times = []
steps = 0
for i in range(reps):
    t0 = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_flow_%d" % i, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cls = next(v for v in vars(mod).values()
               if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec)
    graph = FlowGraph(cls)
    linter.run_checks(graph)
    times.append(time.perf_counter() - t0)
    steps = len(list(graph))
print(json.dumps({"times": times, "steps": steps}))
