"""Runs in flowc's venv: save + load with flowc's FlowDatastore (or raw numpy.save/load), the
counterpart of _metaflow_datastore_bench.py.

Usage: python _flowc_datastore_bench.py ROOT NBYTES          one numpy array of NBYTES
       python _flowc_datastore_bench.py ROOT --small N       N small artifacts (ints/strings)
       python _flowc_datastore_bench.py ROOT --raw NBYTES    numpy.save + numpy.load of the array
-> prints JSON {"save": s, "load": s}
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runtime_shim.datastore import FlowDatastore  # noqa: E402

root = sys.argv[1]
os.makedirs(root, exist_ok=True)
if sys.argv[2] == "--small":
    n = int(sys.argv[3])
    items = [("a%d" % i, (i, "value-%d" % i)) for i in range(n)]
    ds = FlowDatastore("file://" + root, "BenchFlow")
    t0 = time.perf_counter()
    shas = [(name, ds.save_artifact(obj)[0]) for name, obj in items]
    t1 = time.perf_counter()
    back = {name: ds.load_artifact(sha) for name, sha in shas}
    t2 = time.perf_counter()
    assert len(back) == n and back["a7"] == (7, "value-7")
else:
    import numpy as np

    raw = sys.argv[2] == "--raw"
    nbytes = int(sys.argv[3] if raw else sys.argv[2])
    arr = np.random.default_rng(0).random(nbytes // 8)
    if raw:
        path = os.path.join(root, "raw.npy")
        t0 = time.perf_counter()
        np.save(path, arr)
        t1 = time.perf_counter()
        out = np.load(path)
        t2 = time.perf_counter()
    else:
        ds = FlowDatastore("file://" + root, "BenchFlow")
        t0 = time.perf_counter()
        sha, _ = ds.save_artifact(arr)
        t1 = time.perf_counter()
        out = ds.load_artifact(sha)
        t2 = time.perf_counter()
    assert out.shape == arr.shape and out[123] == arr[123]
print(json.dumps({"save": t1 - t0, "load": t2 - t1}))
