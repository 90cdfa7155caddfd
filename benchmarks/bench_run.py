"""Benchmarks of flowc's runtime against Metaflow's.

1. `flowc run wide_foreach.py --param width=W` vs `python wide_foreach.py run --width W` with
   Metaflow 2.19 (local runtime, default max-workers). Goal: flowc <= 0.1x Metaflow's time.
2. Save + load of a 1 GiB numpy artifact: flowc's datastore vs Metaflow's local TaskDataStore vs
   raw numpy.save/numpy.load. Goal: >= 3x faster than Metaflow, within 2x of raw.

Metaflow lives in its own venv, benchmarks/.venv-metaflow, created here with
`pip install metaflow==2.19.* numpy` when absent; without it the Metaflow figures are skipped.

    python benchmarks/bench_run.py [--width 100] [--gib 1.0] [--skip-metaflow] [--repeat 1]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FLOW = os.path.join(REPO, "tests", "flows", "shared", "valid", "wide_foreach.py")
MF_VENV = os.path.join(HERE, ".venv-metaflow")
MF_PY = os.path.join(MF_VENV, "bin", "python")


def ensure_metaflow() -> str | None:
    if os.path.exists(MF_PY):
        ok = subprocess.run([MF_PY, "-c", "import metaflow, numpy"], capture_output=True)
        if ok.returncode == 0:
            return MF_PY
    print("creating %s with metaflow==2.19.* ..." % MF_VENV, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", MF_VENV], check=True)
        subprocess.run([MF_PY, "-m", "pip", "install", "-q", "metaflow==2.19.*", "numpy"],
                       check=True)
        return MF_PY
    except (subprocess.CalledProcessError, OSError) as e:
        print("cannot set up Metaflow (%s): skipping the Metaflow figures" % e)
        return None


def timed(cmd, cwd, env=None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stderr[-3000:]))
    return dt


def bench_wide(width: int, mf_py: str | None, repeat: int) -> dict:
    out = {}
    work = tempfile.mkdtemp(prefix="flowc-bench-")
    try:
        shutil.copy(FLOW, work)
        flow = os.path.join(work, "wide_foreach.py")
        env = dict(os.environ)
        env["FLOWC_DATASTORE"] = "file://" + os.path.join(work, ".flowc")
        flowc = [sys.executable, "-m", "compiler.cli", "run", flow, "--param", "width=%d" % width]
        out["flowc_run_s"] = min(timed(flowc, REPO, env) for _ in range(repeat))
        if mf_py:
            menv = dict(os.environ)
            menv.update({"USERNAME": "bench", "METAFLOW_DEFAULT_DATASTORE": "local",
                         "METAFLOW_DEFAULT_METADATA": "local",
                         "METAFLOW_DATASTORE_SYSROOT_LOCAL": work})
            menv.pop("PYTHONPATH", None)
            mf = [mf_py, flow, "--no-pylint", "run", "--width", str(width)]
            out["metaflow_run_s"] = min(timed(mf, work, menv) for _ in range(repeat))
            out["ratio_flowc_over_metaflow"] = out["flowc_run_s"] / out["metaflow_run_s"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def bench_artifact(gib: float, mf_py: str | None) -> dict:
    import numpy as np

    sys.path.insert(0, REPO)
    from runtime_shim.datastore import FlowDatastore

    nbytes = int(gib * (1 << 30))
    out = {"artifact_bytes": nbytes}
    work = tempfile.mkdtemp(prefix="flowc-bench-art-", dir=os.environ.get("BENCH_DIR"))
    try:
        arr = np.random.default_rng(0).random(nbytes // 8)
        # raw numpy
        raw = os.path.join(work, "raw.npy")
        t0 = time.perf_counter()
        np.save(raw, arr)
        t1 = time.perf_counter()
        back = np.load(raw)
        t2 = time.perf_counter()
        assert back[123] == arr[123]
        del back
        os.remove(raw)
        out["raw_save_s"], out["raw_load_s"] = t1 - t0, t2 - t1
        # flowc
        ds = FlowDatastore("file://" + os.path.join(work, "flowc"), "BenchFlow")
        t0 = time.perf_counter()
        sha, _ = ds.save_artifact(arr)
        t1 = time.perf_counter()
        back = ds.load_artifact(sha)
        t2 = time.perf_counter()
        assert back[123] == arr[123] and back.shape == arr.shape
        del back
        out["flowc_save_s"], out["flowc_load_s"] = t1 - t0, t2 - t1
        del arr
        shutil.rmtree(os.path.join(work, "flowc"), ignore_errors=True)
        if mf_py:
            p = subprocess.run([mf_py, os.path.join(HERE, "_metaflow_datastore_bench.py"),
                                os.path.join(work, "mf"), str(nbytes)], capture_output=True,
                               text=True)
            if p.returncode == 0:
                r = json.loads(p.stdout.strip().splitlines()[-1])
                out["metaflow_save_s"], out["metaflow_load_s"] = r["save"], r["load"]
            else:
                out["metaflow_error"] = p.stderr[-2000:]
        total = out["flowc_save_s"] + out["flowc_load_s"]
        out["flowc_total_s"] = total
        out["raw_total_s"] = out["raw_save_s"] + out["raw_load_s"]
        out["flowc_over_raw"] = total / out["raw_total_s"]
        if "metaflow_save_s" in out:
            out["metaflow_total_s"] = out["metaflow_save_s"] + out["metaflow_load_s"]
            out["metaflow_over_flowc"] = out["metaflow_total_s"] / total
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-metaflow", action="store_true")
    ap.add_argument("--only", choices=["run", "artifact"], default=None)
    a = ap.parse_args(argv)
    mf = None if a.skip_metaflow else ensure_metaflow()
    results = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if a.only in (None, "run"):
        results["wide_foreach"] = dict(width=a.width, **bench_wide(a.width, mf, a.repeat))
        print(json.dumps(results["wide_foreach"], indent=1), flush=True)
    if a.only in (None, "artifact"):
        results["artifact"] = bench_artifact(a.gib, mf)
        print(json.dumps(results["artifact"], indent=1), flush=True)
    return results


if __name__ == "__main__":
    main()
