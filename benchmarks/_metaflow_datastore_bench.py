"""Runs inside the Metaflow venv: save + load with Metaflow's local TaskDataStore.

Usage: python _metaflow_datastore_bench.py ROOT NBYTES        one numpy array of NBYTES
       python _metaflow_datastore_bench.py ROOT --small N     N small artifacts (ints/strings)
-> prints JSON {"save": s, "load": s}
"""
import json
import sys
import time

from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage

root = sys.argv[1]
fds = FlowDataStore("BenchFlow", None, storage_impl=LocalStorage, ds_root=root)
if sys.argv[2] == "--small":
    n = int(sys.argv[3])
    items = [("a%d" % i, (i, "value-%d" % i)) for i in range(n)]
    t0 = time.perf_counter()
    tds = fds.get_task_datastore("1", "start", "1", attempt=0, mode="w")
    tds.init_task()
    tds.save_artifacts(items)
    tds.done()
    t1 = time.perf_counter()
    del tds
    tds = fds.get_task_datastore("1", "start", "1", mode="r")
    back = dict(tds.load_artifacts([name for name, _ in items]))
    t2 = time.perf_counter()
    assert len(back) == n and back["a7"] == (7, "value-7")
else:
    import numpy as np

    nbytes = int(sys.argv[2])
    arr = np.random.default_rng(0).random(nbytes // 8)
    t0 = time.perf_counter()
    tds = fds.get_task_datastore("1", "start", "1", attempt=0, mode="w")
    tds.init_task()
    tds.save_artifacts([("big", arr)])
    tds.done()
    t1 = time.perf_counter()
    del tds
    tds = fds.get_task_datastore("1", "start", "1", mode="r")
    out = tds["big"]
    t2 = time.perf_counter()
    assert out.shape == arr.shape and out[123] == arr[123]
print(json.dumps({"save": t1 - t0, "load": t2 - t1}))
