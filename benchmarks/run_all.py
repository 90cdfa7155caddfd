"""flowc vs Metaflow: every benchmark figure, measured in one run, written to RESULTS.md.

    python benchmarks/run_all.py [--quick] [--write-results] [--only compile,frontend,...]

Installs nothing into the project's environment: Metaflow (pinned, benchlib.MF_PACKAGES), its
moto server and the kubernetes client go into benchmarks/.venv-metaflow, set up when missing.
Every A/B figure runs flowc and Metaflow as whole processes, alternating (A B, B A, ...), and
reports medians (benchlib.interleaved).

Each figure family is one script in SCRIPTS: a module with NAME (its --only name) and
run(ctx: benchlib.Context) that calls ctx.row(...) per figure. Adding a figure is adding a line.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

import benchlib  # noqa: E402

# The scripts, in the order they run (modules in benchmarks/).
SCRIPTS = [
    "bench_compile",      # warm/cold compile vs `show`, compile vs `create --only-json`, output size
    "bench_frontend",     # front end on generated 100..10,000-step flows
    "bench_container",    # container start to the first user line, zip fetched from moto S3 / cached
    "bench_run",          # `flowc run` vs Metaflow's local run
    "bench_fork",         # the fork server at widths 10, 100, 1,000; peak memory at 1,000
    "bench_artifacts",    # a numpy array and many small artifacts through both datastores
]


def machine() -> dict:
    try:
        mem = [line for line in open("/proc/meminfo") if line.startswith("MemTotal")][0].split()[1]
        mem = "%.1f GiB" % (int(mem) / 1024 / 1024)
    except (OSError, IndexError):
        mem = "?"
    mf = subprocess.run([benchlib.MF_PY, "-c", "import metaflow;print(metaflow.__version__)"],
                        capture_output=True, text=True).stdout.strip() if os.path.exists(benchlib.MF_PY) else "-"

    def git(*a):
        return subprocess.run(["git", "-C", REPO] + list(a), capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "compiler", "runtime_shim", "templates",
                "benchmarks")
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "?"
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "flowc_commit": git("rev-parse", "HEAD")[:12] + (" (with uncommitted changes)" if dirty else ""),
            "metaflow": mf, "python": sys.version.split()[0], "platform": platform.platform(),
            "cpu": "%s x %s" % (os.cpu_count(), cpu), "memory": mem,
            "load average at start": "%.2f %.2f %.2f" % os.getloadavg()}


NOTES = """
## How each figure is measured

- **Interleaved medians.** Each A/B figure runs flowc and Metaflow as whole processes, alternating
  A B, B A, ... in the same minutes, and reports the median of each side; ratio = flowc / Metaflow.
  `PYTHONDONTWRITEBYTECODE` is removed from both sides' environment (bytecode is read as after a
  pip install).
- **compile vs show** (`bench_compile.py`): `flowc compile hello.py -t argo` with its cache
  directory filled (warm: the replay cache of compiler/entry.py hits; "analysis cache only":
  FLOWC_NO_REPLAY=1) or emptied before each run (cold), and `flowc check` warm, against
  `python hello.py show`, the cheapest Metaflow command that reads a flow. The "pip-installed"
  rows run flowc from benchmarks/.venv-flowc (`pip install .`, not editable), as a release runs.
- **compile vs create**: `flowc compile FLOW -t argo|stepfunctions -o DIR` (empty cache) vs
  `python FLOW.py argo-workflows|step-functions create --only-json` against a moto server (S3
  datastore, Batch queues in a MANAGED EC2 compute environment, dummy credentials). Metaflow's
  Step Functions `create` registers job definitions and uploads its code package even with
  `--only-json`. resources.py mixes @kubernetes and @batch, which Metaflow refuses on either
  engine: each engine gets the variant with every step on its own backend, flowc the same.
- **front end** (`bench_frontend.py`): a fresh process per run. flowc: `analyze_file` (parse,
  graph, lint) timed inside, its modules imported first; Metaflow: importing the flow module +
  `FlowGraph` + linter (what `FLOW.py check` does). Generated flows: frontend_scaling.generate(N).
- **container** (`bench_container.py`): the Batch job definition flowc emits for
  benchmarks/flows/first_line.py, its `command` + `environment` run as a local process on a
  stdlib-only python, the package on a moto S3 server; from spawning the process to the time the
  step's first line prints. One extra fetched run goes through the SigV4-verifying double of
  tests/doubles/sigv4.py and must be accepted.
- **run** (`bench_run.py`): `flowc run` vs `python FLOW.py run`, same `--max-workers`, local
  datastores, tmp dirs.
- **artifacts** (`bench_artifacts.py`): local disk, flowc's FlowDatastore vs Metaflow's
  TaskDataStore (save_artifacts + load) vs numpy.save/numpy.load, each a whole process timing its
  own save and load.
- **size**: resources.py, 5 steps. flowc's Argo code ConfigMap (the zipped code package, which
  Metaflow uploads to S3 instead) is reported apart in the note.

The load averages above include the benchmarks' own processes (Metaflow's 1,000-task run keeps
both cores busy for minutes); a run next to other jobs says so in them.
Wall times move by tens of percent between runs; the ratios, from runs interleaved in the same
minutes, move much less.
"""


def findings(rows: list[dict]) -> list[str]:
    """Sentences computed from this run's rows (never written by hand)."""
    out = []
    fe = [(int(r["figure"].split()[2]), r["flowc"]) for r in rows
          if r["figure"].startswith("front end ") and r["flowc"]]
    if len(fe) >= 2:
        (n0, t0), (n1, t1) = fe[0], fe[-1]
        rel = (t1 / n1) / (t0 / n0)
        trend = ("rises" if rel > 1.1 else "falls" if rel < 0.9 else "stays within 10% of the smallest's")
        out.append("Front-end scaling in this run: the cost per step at %d steps is %.2fx that at %d steps "
                   "(%.2f vs %.2f ms/step), so the cost per step %s as flows grow (per size: the front end "
                   "rows' notes)." % (n1, rel, n0, 1000 * t1 / n1, 1000 * t0 / n0, trend))
    missed = [r["figure"] for r in rows if r["met"] is False]
    if missed:
        out.append("Goals missed in this run: %s." % "; ".join(missed))
    return out + [""] if out else []


def write_results(info: dict, rows: list[dict], args, path: str, seconds: float) -> None:
    lines = ["# flowc vs Metaflow benchmarks", "",
             "Generated by `python benchmarks/run_all.py %s` in %.0f s; rerun it to reproduce." % (
                 " ".join(args.argv), seconds)]
    if args.only:
        lines += ["", "Rows were last updated by a partial rerun (`--only ...`); the machine table is that "
                      "rerun's and the `measured` column dates every row."]
    lines += ["", "| | |", "|---|---|"]
    lines += ["| %s | %s |" % (k, v) for k, v in info.items()]
    lines += ["| load average at end | %.2f %.2f %.2f |" % os.getloadavg(), "",
              "Times are medians (seconds) of whole processes, flowc and Metaflow interleaved; "
              "ratio = flowc / Metaflow (lower is better for flowc).", "",
              "| figure | flowc | Metaflow %s | ratio | goal | met | note | measured |" % info["metaflow"],
              "|---|---|---|---|---|---|---|---|"]
    new_rows = {}
    for r in rows:
        new_rows[r["figure"]] = "| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["figure"], benchlib.fmt(r["flowc"], r["unit"]), benchlib.fmt(r["metaflow"], r["unit"]),
            "%.3fx" % r["ratio"] if r["ratio"] is not None else "-", r["goal"],
            {True: "yes", False: "**no**", None: ""}[r["met"]], r["note"].replace("|", "/"), info["date"])
    old_rows = []
    if args.only and os.path.exists(path):     # a partial run replaces its own rows, keeps the others
        old = open(path).read().splitlines()
        old_rows = [line for line in old if line.startswith("| ") and line.count("|") >= 9
                    and not line.startswith("| figure")]
    merged, seen = [], set()
    for line in old_rows:
        fig = line.split("|")[1].strip()
        merged.append(new_rows.get(fig, line))
        seen.add(fig)
    merged += [v for k, v in new_rows.items() if k not in seen]
    lines += merged + [""] + findings(rows) + [NOTES.strip()]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote", path)


def main(argv=None):
    names = {importlib.import_module(s).NAME: s for s in SCRIPTS}
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes (a few minutes)")
    ap.add_argument("--write-results", action="store_true", help="write benchmarks/RESULTS.md")
    ap.add_argument("--only", default=None, help="comma list of %s (default: all); with --write-results only "
                                                 "these rows of RESULTS.md are replaced" % ",".join(names))
    ap.add_argument("--skip-metaflow", action="store_true")
    ap.add_argument("--widths", default=None, help="wide_foreach widths for the run figure")
    ap.add_argument("--max-workers", type=int, default=16, help="for both runners (Metaflow's default)")
    a = ap.parse_args(argv)
    a.argv = list(sys.argv[1:] if argv is None else argv)
    only = a.only.split(",") if a.only else list(names)
    unknown = [n for n in only if n not in names]
    if unknown:
        ap.error("unknown figure(s) %s; known: %s" % (",".join(unknown), ",".join(names)))
    info = machine()
    print("machine:", json.dumps(info), flush=True)
    mf_py = None if a.skip_metaflow else benchlib.ensure_metaflow()
    if mf_py and info["metaflow"] == "-":
        info["metaflow"] = benchlib.MF_VERSION
    work = tempfile.mkdtemp(prefix="flowc-bench-all-")
    ctx = benchlib.Context(a.quick, mf_py, work, [int(w) for w in a.widths.split(",")] if a.widths else None,
                           a.max_workers)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # run the cleanup below
    t0 = time.time()
    try:
        for name in names:
            if name not in only:
                continue
            module = importlib.import_module(names[name])
            try:
                module.run(ctx)
            except Exception as e:  # noqa: BLE001 - one family failing must not lose the others
                msg = " ".join(str(e).strip().splitlines()[-3:])[:300]
                print("  %s FAILED: %s" % (name, msg), flush=True)
                ctx.rows.append(dict(figure="%s (failed)" % name, flowc=None, metaflow=None, unit="s",
                                     ratio=None, goal="", met=None, note=msg))
    finally:
        ctx.close()
        shutil.rmtree(work, ignore_errors=True)
    if a.write_results:
        write_results(info, ctx.rows, a, os.path.join(HERE, "RESULTS.md"), time.time() - t0)
    return ctx.rows


if __name__ == "__main__":
    main()
