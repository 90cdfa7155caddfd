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


# What the Metaflow venv holds: Metaflow itself, numpy for the artifact figures, moto's server for
# the S3/Batch endpoint Metaflow's `create --only-json` needs, and the kubernetes client that
# `argo-workflows create` imports (kubernetes<34: newer ones want python-dateutil>=3, botocore <3).
MF_PACKAGES = ["metaflow==2.19.*", "numpy", "moto[server]", "kubernetes<34", "python-dateutil<3"]
MF_CHECK = "import metaflow, numpy, moto.server, kubernetes"


def ensure_metaflow() -> str | None:
    if os.path.exists(MF_PY):
        ok = subprocess.run([MF_PY, "-c", MF_CHECK], capture_output=True)
        if ok.returncode == 0:
            return MF_PY
    print("creating %s with %s ..." % (MF_VENV, " ".join(MF_PACKAGES)), flush=True)
    try:
        if not os.path.exists(MF_PY):
            subprocess.run([sys.executable, "-m", "venv", MF_VENV], check=True)
        subprocess.run([MF_PY, "-m", "pip", "install", "-q"] + MF_PACKAGES, check=True)
        return MF_PY
    except (subprocess.CalledProcessError, OSError) as e:
        print("cannot set up Metaflow (%s): skipping the Metaflow figures" % e)
        return None


def timed(cmd, cwd, env=None, timeout=None) -> float:
    """Wall time of cmd; on timeout its whole process group is killed and TimeoutExpired raised."""
    import signal

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), err[-3000:]))
    return dt


def bench_wide(width: int | None, mf_py: str | None, repeat: int, flow_src: str = FLOW,
               max_workers: int | None = None, mf_timeout: float | None = None) -> dict:
    """`flowc run` vs Metaflow's local `run` of flow_src (width: the `width` parameter, if any).

    Medians of `repeat` runs, flowc and Metaflow interleaved so both see the same machine noise.
    """
    import statistics

    out = {"flowc_runs_s": [], "metaflow_runs_s": []}
    work = tempfile.mkdtemp(prefix="flowc-bench-")
    try:
        shutil.copy(flow_src, work)
        flow = os.path.join(work, os.path.basename(flow_src))
        env = dict(os.environ)
        env["FLOWC_DATASTORE"] = "file://" + os.path.join(work, ".flowc")
        flowc = [sys.executable, "-m", "compiler.cli", "run", flow]
        mf = [mf_py, flow, "--no-pylint", "run"] if mf_py else None
        if width is not None:
            flowc += ["--param", "width=%d" % width]
            if mf:
                mf += ["--width", str(width)]
                if width > 100:     # Metaflow refuses foreach splits past 100 by default
                    mf += ["--max-num-splits", str(width + 1)]
        if max_workers:
            flowc += ["--max-workers", str(max_workers)]
            if mf:
                mf += ["--max-workers", str(max_workers)]
        menv = dict(os.environ)
        menv.update({"USERNAME": "bench", "METAFLOW_DEFAULT_DATASTORE": "local",
                     "METAFLOW_DEFAULT_METADATA": "local",
                     "METAFLOW_DATASTORE_SYSROOT_LOCAL": work})
        menv.pop("PYTHONPATH", None)
        for _ in range(repeat):
            out["flowc_runs_s"].append(timed(flowc, REPO, env))
            if mf:
                try:
                    out["metaflow_runs_s"].append(timed(mf, work, menv, timeout=mf_timeout))
                except subprocess.TimeoutExpired:
                    out["metaflow_timeout_s"] = mf_timeout
                    mf = None
        out["flowc_run_s"] = statistics.median(out["flowc_runs_s"])
        if out["metaflow_runs_s"]:
            out["metaflow_run_s"] = statistics.median(out["metaflow_runs_s"])
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
