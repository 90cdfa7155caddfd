"""Artifacts on local disk, whole processes interleaved (flowc, Metaflow, raw numpy), each
process timing its own save and load (the figure is save + load):

  one numpy array   flowc FlowDatastore vs Metaflow TaskDataStore (save_artifacts + load) vs
                    numpy.save/numpy.load: 256 MiB (--quick 64 MiB)
  small artifacts   10,000 (--quick 2,000) small tuples, each its own artifact
"""
from __future__ import annotations

import json
import os
import shutil
import sys

from benchlib import HERE, Cmd, Context, clean_env, interleaved

NAME = "artifacts"


def _parse(out: str) -> float:
    r = json.loads(out.strip().splitlines()[-1])
    return r["save"] + r["load"]


def run(ctx: Context) -> None:
    mib = 64 if ctx.quick else 256
    n_small = 2000 if ctx.quick else 10000
    reps = 3
    print("\n[artifacts] local disk, whole processes interleaved (median of %d)" % reps, flush=True)
    root = os.path.join(ctx.work, "artifacts")

    def fresh(d):
        return lambda: shutil.rmtree(d, ignore_errors=True)

    def sides(args):
        fc = os.path.join(root, "flowc")
        cmds = [Cmd("flowc", [sys.executable, os.path.join(HERE, "_flowc_datastore_bench.py"), fc] + args,
                    ctx.work, clean_env(), before=fresh(fc), parse=_parse)]
        if ctx.mf_py:
            mf = os.path.join(root, "mf")
            cmds.append(Cmd("metaflow", [ctx.mf_py, os.path.join(HERE, "_metaflow_datastore_bench.py"), mf] + args,
                            ctx.work, clean_env(), before=fresh(mf), parse=_parse))
        return cmds

    nbytes = mib << 20
    raw_dir = os.path.join(root, "raw")
    cmds = sides([str(nbytes)]) + [Cmd("raw", [sys.executable, os.path.join(HERE, "_flowc_datastore_bench.py"),
                                                 raw_dir, "--raw", str(nbytes)], ctx.work, clean_env(),
                                             before=fresh(raw_dir), parse=_parse)]
    out = interleaved(cmds, reps)
    fc, raw = out["flowc"]["median"], out["raw"]["median"]
    ctx.row("artifact %d MiB numpy save+load" % mib, fc, out.get("metaflow", {}).get("median"), reps=reps,
            note="raw numpy.save+load %.3fs (flowc %.2fx raw)" % (raw, fc / raw))
    out = interleaved(sides(["--small", str(n_small)]), reps)
    ctx.row("%d small artifacts save+load" % n_small, out["flowc"]["median"],
            out.get("metaflow", {}).get("median"), reps=reps, note="flowc: one blob each")
    shutil.rmtree(root, ignore_errors=True)
