"""The fork server of `flowc run` against Metaflow's local runtime, and against spawning each task.

For each width W (default 10, 100, 1000) of wide_foreach.py, in turn within each repetition so
all three see the same machine noise: `flowc run` (tasks forked from the warm fork server),
`flowc run --spawn` (a fresh interpreter per task, as before the fork server) and Metaflow 2.19
(`python wide_foreach.py run --width W`, from benchmarks/.venv-metaflow as bench_run.py sets it
up); medians. Goals: width 100 <= 0.05x Metaflow, width 1000 < 10 s.
Then the peak memory of `flowc run` at width 1000: the runner's max RSS, and the peak sum over
its whole process tree (runner, fork server, tasks) of PSS (proportional: a page shared by forked
tasks counts once), sampled every 20 ms from /proc.

    python benchmarks/bench_fork.py [--widths 10,100,1000] [--repeat 3] [--max-workers 16]
                                    [--skip-metaflow] [--skip-spawn] [--mf-timeout S]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_run  # noqa: E402 - the flow and the Metaflow venv

FLOW = bench_run.FLOW
REPO = bench_run.REPO
GOAL_RATIO_100 = 0.05
GOAL_1000_S = 10.0


def _commands(work: str, width: int, mf_py: str | None, max_workers: int):
    flow = os.path.join(work, os.path.basename(FLOW))
    if not os.path.exists(flow):
        shutil.copy(FLOW, work)
    flowc = [sys.executable, "-m", "compiler.cli", "run", flow, "--param", "width=%d" % width,
             "--max-workers", str(max_workers), "--quiet"]
    env = dict(os.environ, FLOWC_DATASTORE="file://" + os.path.join(work, ".flowc"))
    mf = menv = None
    if mf_py:
        mf = [mf_py, flow, "--no-pylint", "run", "--width", str(width), "--max-workers", str(max_workers)]
        if width > 100:         # Metaflow refuses foreach splits past 100 by default
            mf += ["--max-num-splits", str(width + 1)]
        menv = dict(os.environ, USERNAME="bench", METAFLOW_DEFAULT_DATASTORE="local",
                    METAFLOW_DEFAULT_METADATA="local", METAFLOW_DATASTORE_SYSROOT_LOCAL=work)
        menv.pop("PYTHONPATH", None)
    return flowc, env, mf, menv


def timed(cmd, cwd, env, timeout=None) -> tuple[float, float]:
    """(wall s, CPU s of the whole process tree): the CPU figure is what a loaded machine does
    not distort; a timeout kills the process group and raises TimeoutExpired."""
    import signal

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    deadline = None if timeout is None else t0 + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise subprocess.TimeoutExpired(cmd, timeout)
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode("utf-8", "replace") if p.stderr else ""
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), err[-3000:]))
    return wall, usage.ru_utime + usage.ru_stime


def bench_widths(widths, repeat: int, mf_py: str | None, max_workers: int, spawn: bool = True,
                 mf_timeout: float | None = None, repeat_1000: int = 1) -> dict:
    out = {}
    for width in widths:
        reps = repeat if width < 1000 else min(repeat, repeat_1000)
        runs: dict[str, list[float]] = {"fork": [], "spawn": [], "metaflow": []}
        cpu: dict[str, list[float]] = {"fork": [], "spawn": [], "metaflow": []}
        work = tempfile.mkdtemp(prefix="flowc-bench-fork-")
        try:
            flowc, env, mf, menv = _commands(work, width, mf_py, max_workers)
            arms = [("fork", flowc, REPO, env)]
            if spawn:
                arms.append(("spawn", flowc + ["--spawn"], REPO, env))
            for _ in range(reps):
                for arm, cmd, cwd, e in arms + ([("metaflow", mf, work, menv)] if mf else []):
                    try:
                        wall, used = timed(cmd, cwd, e, timeout=mf_timeout if arm == "metaflow" else None)
                    except subprocess.TimeoutExpired:
                        out.setdefault("metaflow_timeouts", {})[width] = mf_timeout
                        mf = None
                        continue
                    runs[arm].append(wall)
                    cpu[arm].append(used)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r: dict = {"runs_s": runs, "cpu_runs_s": cpu}
        for arm, times in runs.items():
            if times:
                r[arm + "_s"] = statistics.median(times)
                r[arm + "_cpu_s"] = statistics.median(cpu[arm])
        if "metaflow_s" in r:
            r["fork_over_metaflow"] = r["fork_s"] / r["metaflow_s"]
            r["fork_over_metaflow_cpu"] = r["fork_cpu_s"] / r["metaflow_cpu_s"]
        if "spawn_s" in r:
            r["fork_over_spawn"] = r["fork_s"] / r["spawn_s"]
            r["fork_over_spawn_cpu"] = r["fork_cpu_s"] / r["spawn_cpu_s"]
        out[width] = r
        print("width %d: %s" % (width, json.dumps({k: round(v, 3) for k, v in r.items() if "runs" not in k})),
              flush=True)
    return out


# ---------------------------------------------------------------------------------- memory
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _pss_kib(pid: int) -> int:
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open("/proc/%d/statm" % pid) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


def tree_pss_kib(root: int) -> int:
    kids = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_kib(pid)
        todo += kids.get(pid, [])
    return total


def peak_memory(width: int = 1000, max_workers: int = 16, spawn: bool = False) -> dict:
    work = tempfile.mkdtemp(prefix="flowc-bench-mem-")
    try:
        flowc, env, _, _ = _commands(work, width, None, max_workers)
        if spawn:
            flowc = flowc + ["--spawn"]
        t0 = time.perf_counter()
        p = subprocess.Popen(flowc, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        while True:
            try:
                pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                break
            peak = max(peak, tree_pss_kib(p.pid))
            time.sleep(0.02)
        err = p.stderr.read().decode() if p.stderr else ""
        if p.returncode != 0:
            raise RuntimeError("flowc run failed:\n" + err[-2000:])
        return {"width": width, "mode": "spawn" if spawn else "fork", "seconds": time.perf_counter() - t0,
                "runner_max_rss_mib": usage.ru_maxrss / 1024, "tree_peak_pss_mib": peak / 1024}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------- run_all.py
def rows(row, mf_py, quick: bool, max_workers: int = 16, mf_timeout: float | None = None) -> None:
    """The figures as rows of benchmarks/run_all.py (its `row` function)."""
    widths = [10, 100] if quick else [10, 100, 1000]
    print("\n[fork] flowc run (fork server) vs --spawn vs Metaflow, --max-workers %d" % max_workers, flush=True)
    res = bench_widths(widths, 3, mf_py, max_workers, mf_timeout=mf_timeout)
    for w in widths:
        r = res[w]
        note = "CPU fork %.2f s, spawn %.2f s, Metaflow %s s; wall spawn %.2f s; %d run(s); loaded machine" % (
            r["fork_cpu_s"], r.get("spawn_cpu_s", float("nan")),
            "%.2f" % r["metaflow_cpu_s"] if "metaflow_cpu_s" in r else "-",
            r.get("spawn_s", float("nan")), len(r["runs_s"]["fork"]))
        row("fork server: wide_foreach width %d" % w, r["fork_s"], r.get("metaflow_s"),
            goal=GOAL_RATIO_100 if w == 100 else None, goal_abs=GOAL_1000_S if w == 1000 else None, note=note)
    if not quick:
        m = peak_memory(1000, max_workers)
        row("flowc run width 1000: peak memory (PSS, whole tree)", m["tree_peak_pss_mib"], unit="MiB",
            note="runner max RSS %.0f MiB" % m["runner_max_rss_mib"])


NAME = "fork"


def run(ctx) -> None:
    """run_all: the fork server's figures (widths 10/100, and 1,000 plus peak memory unless quick)."""
    rows(ctx.row, ctx.mf_py, ctx.quick, ctx.max_workers)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--widths", default="10,100,1000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--repeat-1000", type=int, default=1, help="repetitions at width >= 1000")
    ap.add_argument("--max-workers", type=int, default=16, help="for both runners (Metaflow's default)")
    ap.add_argument("--skip-metaflow", action="store_true")
    ap.add_argument("--skip-spawn", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--mf-timeout", type=float, default=0, help="stop a Metaflow run after S seconds")
    a = ap.parse_args(argv)
    mf = None if a.skip_metaflow else bench_run.ensure_metaflow()
    results: dict = {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()}
    results["widths"] = bench_widths([int(w) for w in a.widths.split(",")], a.repeat, mf, a.max_workers,
                                     spawn=not a.skip_spawn, mf_timeout=a.mf_timeout or None,
                                     repeat_1000=a.repeat_1000)
    if not a.skip_memory:
        results["memory"] = [peak_memory(1000, a.max_workers)]
        if not a.skip_spawn:
            results["memory"].append(peak_memory(1000, a.max_workers, spawn=True))
        print(json.dumps(results["memory"]), flush=True)
    results["loadavg_after"] = os.getloadavg()
    print(json.dumps(results, indent=1, default=str))
    return results


if __name__ == "__main__":
    main()
