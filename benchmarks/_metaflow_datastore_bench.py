"""Runs inside the Metaflow venv: save + load of a numpy array with Metaflow's local TaskDataStore.

Usage: python _metaflow_datastore_bench.py ROOT NBYTES  -> prints JSON {"save": s, "load": s}
"""
import json
import sys
import time

import numpy as np
from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage

root, nbytes = sys.argv[1], int(sys.argv[2])
arr = np.random.default_rng(0).random(nbytes // 8)
fds = FlowDataStore("BenchFlow", None, storage_impl=LocalStorage, ds_root=root)
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
