"""Benchmarks of flowc's runtime against Metaflow's.

1. `flowc run wide_foreach.py --param width=W` vs `python wide_foreach.py run --width W` with
   Metaflow 2.19 (local runtime, equal --max-workers), interleaved. Goal: flowc <= 0.1x.
2. Save + load of a 1 GiB numpy artifact: flowc's datastore vs Metaflow's local TaskDataStore vs
   raw numpy.save/numpy.load (in-process; run_all uses bench_artifacts.py, whole processes).

Metaflow lives in its own venv, benchmarks/.venv-metaflow (benchlib.ensure_metaflow, pinned);
without it the Metaflow figures are skipped. As a run_all script (NAME, run(ctx)): the `run` rows.

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
sys.path.insert(0, HERE)
FLOW = os.path.join(REPO, "tests", "flows", "shared", "valid", "wide_foreach.py")

from benchlib import MF_PACKAGES, MF_PY, MF_VENV, Cmd, clean_env, ensure_metaflow, interleaved  # noqa: E402,F401

NAME = "run"
GOAL_RUN = 0.1


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

    Medians of `repeat` runs of each, whole processes, interleaved A B / B A (benchlib.interleaved)
    so both see the same machine noise.
    """
    import statistics

    out: dict = {}
    work = tempfile.mkdtemp(prefix="flowc-bench-")
    try:
        shutil.copy(flow_src, work)
        flow = os.path.join(work, os.path.basename(flow_src))
        env = clean_env(FLOWC_DATASTORE="file://" + os.path.join(work, ".flowc"))
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
        menv = clean_env(USERNAME="bench", METAFLOW_DEFAULT_DATASTORE="local", METAFLOW_DEFAULT_METADATA="local",
                         METAFLOW_DATASTORE_SYSROOT_LOCAL=work, METAFLOW_HOME=work)
        cmds = [Cmd("flowc", flowc, REPO, env)]
        if mf:
            cmds.append(Cmd("metaflow", mf, work, menv, timeout=mf_timeout))
        res = interleaved(cmds, repeat)
        out["flowc_runs_s"] = res["flowc"]["times"]
        out["flowc_run_s"] = res["flowc"]["median"]
        if mf:
            out["metaflow_runs_s"] = res["metaflow"]["times"]
            if res["metaflow"]["timed_out"]:
                out["metaflow_timeout_s"] = mf_timeout
            if res["metaflow"]["times"]:
                out["metaflow_run_s"] = statistics.median(res["metaflow"]["times"])
                out["ratio_flowc_over_metaflow"] = out["flowc_run_s"] / out["metaflow_run_s"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def run(ctx) -> None:
    """run_all: `flowc run` of hello.py and of wide_foreach.py (width 10 quick, else 100; the fork
    server's widths 10/100/1,000 are bench_fork.py's) against Metaflow's local run."""
    widths = ctx.widths or ([10] if ctx.quick else [100])
    reps = 3
    print("\n[run] local run, --max-workers %d (interleaved, median of %d)" % (ctx.max_workers, reps), flush=True)
    valid = os.path.join(REPO, "tests", "flows", "shared", "valid")
    out = bench_wide(None, ctx.mf_py, 5 if not ctx.quick else 3, flow_src=os.path.join(valid, "hello.py"),
                     max_workers=ctx.max_workers)
    ctx.row("run hello.py", out["flowc_run_s"], out.get("metaflow_run_s"), goal=GOAL_RUN,
            reps=len(out["flowc_runs_s"]))
    for w in widths:
        timeout = 600 if w >= 100 else None
        out = bench_wide(w, ctx.mf_py, reps, max_workers=ctx.max_workers, mf_timeout=timeout)
        note = ""
        if "metaflow_timeout_s" in out:
            note = "Metaflow stopped after %d s unfinished: ratio < %.3fx" % (timeout, out["flowc_run_s"] / timeout)
        ctx.row("run wide_foreach.py width %d" % w, out["flowc_run_s"], out.get("metaflow_run_s"), goal=GOAL_RUN,
                note=note, reps=len(out["flowc_runs_s"]))


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
