"""Front-end scaling on generated flows of N steps (frontend_scaling.generate), flowc and Metaflow
interleaved, each run a fresh process timing its own front end once:

  flowc     analyze_file (parse, graph, lint), its modules imported before the clock starts
  Metaflow  import of the flow module + FlowGraph + linter (_metaflow_frontend_bench.py), what
            `python FLOW.py check` does before it exits

The note of each row gives the cost per step and its ratio to the cost per step at the smallest
size: above 1.00x the front end is superlinear there.
"""
from __future__ import annotations

import json
import os
import sys

import frontend_scaling
from benchlib import HERE, REPO, Cmd, Context, clean_env, interleaved

NAME = "frontend"

FLOWC_ONCE = """
import sys, time
sys.path.insert(0, %r)
import compiler.frontend.api as api, compiler.frontend.parse, compiler.frontend.graph, compiler.frontend.lint
t = time.perf_counter()
a = api.analyze_file(sys.argv[1])
dt = time.perf_counter() - t
assert a.ok, a.diagnostics[:3]
print(dt)
""" % REPO


def run(ctx: Context) -> None:
    sizes = [100, 1000, 2000] if ctx.quick else [100, 1000, 2000, 10000]
    mf_timeout = 30 if ctx.quick else 60
    print("\n[frontend] front end on generated flows (fresh process per run, interleaved)", flush=True)
    base = None
    mf_failed = 0
    for n in sizes:
        path = os.path.join(ctx.work, "scale_%d.py" % n)
        with open(path, "w") as fh:
            fh.write(frontend_scaling.generate(n))
        reps = 3 if (n > 2000 or ctx.quick) else 5
        cmds = [Cmd("flowc", [sys.executable, "-c", FLOWC_ONCE, path], ctx.work, clean_env(),
                    parse=lambda out: float(out.strip().splitlines()[-1]))]
        note = ""
        if ctx.mf_py and not mf_failed:
            cmds.append(Cmd("metaflow", [ctx.mf_py, os.path.join(HERE, "_metaflow_frontend_bench.py"), path, "1"],
                            ctx.work, clean_env(), timeout=mf_timeout,
                            parse=lambda out: json.loads(out.strip().splitlines()[-1])["times"][0]))
        elif ctx.mf_py:
            note = "Metaflow not tried: no result at %d steps" % mf_failed
        try:
            out = interleaved(cmds, reps)
        except RuntimeError as e:
            note = "Metaflow fails: " + str(e).strip().splitlines()[-1][:80]
            mf_failed = n
            out = interleaved(cmds[:1], reps)
        fc = out["flowc"]["median"]
        mf = out.get("metaflow", {}).get("median")
        if out.get("metaflow", {}).get("timed_out"):
            note = "Metaflow: no result within %d s" % mf_timeout
            mf_failed = n
        per = fc / n
        base = base or per
        lin = "%.2f ms/step, %.2fx the %d-step cost per step" % (1000 * per, per / base, sizes[0])
        ctx.row("front end %d steps" % n, fc, mf, note=(lin + "; " + note).strip("; "), reps=reps)
