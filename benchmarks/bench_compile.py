"""Compile figures, whole processes, flowc and Metaflow interleaved.

1. `flowc compile hello.py -t argo` warm (the replay cache of compiler/entry.py hits), warm with
   the analysis cache only (FLOWC_NO_REPLAY=1), cold (empty cache dir), and `flowc check` warm, against Metaflow's `python hello.py show` (the cheapest Metaflow command
   that reads the flow). Goals (issue 17): warm <= 0.3x, cold <= 1.1x.
2. `flowc compile FLOW -t argo|stepfunctions -o DIR` (cold cache) against
   `python FLOW.py argo-workflows|step-functions create --only-json` on a moto server.
3. Output size per step of resources.py on both engines (from the runs of 2).
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sys

import frontend_scaling
from benchlib import (VALID, Cmd, Context, clean_env, ensure_flowc_wheel, flowc_cmd, flowc_env, interleaved, metaflow_env,
                      run_once)

NAME = "compile"
WARM_IMPORTS = ("import click, yaml, compiler.cli, compiler.commands.compile, compiler.pipeline, "
                "compiler.frontend.cache, compiler.frontend.api, compiler.lower, compiler.codepackage, "
                "compiler.datafiles, compiler.runtime_spec, compiler.targets.argo, compiler.targets.serialize, "
                "compiler.diagnostics.render")
GOALS = {"warm": 0.3, "cold": 1.1, "argo": 1 / 3, "stepfunctions": 1 / 5}


def bench_flows(work: str, quick: bool) -> dict:
    """name -> {target: path}. resources.py mixes @kubernetes and @batch, which Metaflow refuses
    on either engine, so each engine gets the variant with every step on its backend (flowc
    compiles the same variant)."""
    res = open(os.path.join(VALID, "resources.py")).read()
    k8s_only = re.sub(r'@batch\(cpu=4, memory=MEMORY_MB, gpu=2, queue="gpu-queue", image="python:3.11"\)',
                      '@kubernetes(cpu=4, memory=MEMORY_MB, gpu=2, image="python:3.11")', res)
    batch_only = re.sub(r"@kubernetes\(cpu=8, memory=16000, disk=20480, image=\"python:3.11-slim\",\s*"
                        r"node_selector=\{\"pool\": \"gpu\"\}, tolerations=\[\{\"key\": \"gpu\", \"operator\": \"Exists\"\}\]\)",
                        '@batch(cpu=8, memory=16000, image="python:3.11-slim")', res)
    assert k8s_only != res and batch_only != res, "resources.py changed: update bench_flows"
    flows = [("hello.py", open(os.path.join(VALID, "hello.py")).read(), None),
             ("resources.py", k8s_only, batch_only)]
    if not quick:
        flows.append(("generated 100 steps", frontend_scaling.generate(100), None))
    out = {}
    for name, argo_text, sfn_text in flows:
        paths = {}
        for target, text in (("argo", argo_text), ("stepfunctions", sfn_text or argo_text)):
            d = os.path.join(work, "flows", target)
            os.makedirs(d, exist_ok=True)
            fname = "scale100.py" if name.startswith("generated") else name
            p = os.path.join(d, fname)
            with open(p, "w") as fh:
                fh.write(text + ("\n\nif __name__ == '__main__':\n    Scale()\n"
                                 if name.startswith("generated") else ""))
            paths[target] = p
        out[name] = paths
    return out


def bench_show(ctx: Context) -> None:
    reps = 5 if ctx.quick else 9
    print("\n[compile] warm/cold compile and check vs Metaflow `show` (interleaved, median of %d)" % reps,
          flush=True)
    d = os.path.join(ctx.work, "show")
    os.makedirs(d, exist_ok=True)
    flow = os.path.join(d, "hello.py")
    shutil.copy(os.path.join(VALID, "hello.py"), flow)
    warm_dir, cold_dir = os.path.join(d, "cache-warm"), os.path.join(d, "cache-cold")
    fenv = clean_env()
    fc = flowc_cmd()
    compile_args = ["compile", flow, "-t", "argo"]
    cmds = [Cmd("warm", fc + compile_args + ["--cache-dir", warm_dir], d, fenv),
            Cmd("analysis", fc + compile_args + ["--cache-dir", warm_dir], d, clean_env(FLOWC_NO_REPLAY="1")),
            Cmd("cold", fc + compile_args + ["--cache-dir", cold_dir], d, fenv,
                before=lambda: shutil.rmtree(cold_dir, ignore_errors=True)),
            Cmd("check", fc + ["check", flow, "--cache-dir", warm_dir], d, fenv),
            # what stands under the warm compile: a python that imports click (any click CLI), and
            # one that imports every module a warm argo compile imports, doing no work
            Cmd("click", [sys.executable, "-c", "import click"], d, fenv),
            Cmd("imports", [sys.executable, "-c", WARM_IMPORTS], d, fenv)]
    wheel = ensure_flowc_wheel()
    if wheel:
        # flowc as a wheel installs it: no editable-install finder in site (what users of a release pay)
        wheel_warm, wheel_cold = os.path.join(d, "cache-wheel-warm"), os.path.join(d, "cache-wheel-cold")
        cmds += [Cmd("wheel warm", [wheel] + compile_args + ["--cache-dir", wheel_warm], d, fenv),
                 Cmd("wheel cold", [wheel] + compile_args + ["--cache-dir", wheel_cold], d, fenv,
                     before=lambda: shutil.rmtree(wheel_cold, ignore_errors=True))]
    if ctx.mf_py:
        cmds.append(Cmd("show", [ctx.mf_py, flow, "--no-pylint", "show"], d, metaflow_env(d)))
    # fill the warm cache; one untimed run of each side so no side pays a first-ever start
    for c in cmds:
        run_once(c)
    out = interleaved(cmds, reps)
    mf = out["show"]["median"] if ctx.mf_py else None
    ctx.row("compile argo hello.py, warm (replay cache hit) vs Metaflow show", out["warm"]["median"], mf,
            goal=GOALS["warm"], reps=reps)
    ctx.row("compile argo hello.py, warm, analysis cache only vs Metaflow show", out["analysis"]["median"], mf,
            reps=reps, note="FLOWC_NO_REPLAY=1: the replay cache off, the analysis cache hit")
    ctx.row("compile argo hello.py, cold (empty cache) vs Metaflow show", out["cold"]["median"], mf,
            goal=GOALS["cold"], reps=reps)
    if wheel:
        ctx.row("compile argo hello.py, warm (replay hit), flowc pip-installed vs Metaflow show",
                out["wheel warm"]["median"], mf, reps=reps, note="benchmarks/.venv-flowc: `pip install .`, not editable")
        ctx.row("compile argo hello.py, cold, flowc pip-installed vs Metaflow show", out["wheel cold"]["median"], mf,
                reps=reps, note="benchmarks/.venv-flowc: `pip install .`, not editable")
    ctx.row("check hello.py, warm vs Metaflow show", out["check"]["median"], mf, reps=reps)
    ctx.row("floor: python + import click vs Metaflow show", out["click"]["median"], mf, reps=reps,
            note="what any click command pays before flowc runs")
    ctx.row("floor: the warm argo compile's imports vs Metaflow show", out["imports"]["median"], mf, reps=reps,
            note="every module a warm `compile -t argo` imports (yaml, click, the IR, the Argo target), no work")


def bench_create(ctx: Context, sizes_out: dict) -> None:
    reps = 3 if ctx.quick else 5
    print("\n[compile] flowc compile -o vs Metaflow create --only-json (interleaved, median of <= %d)" % reps,
          flush=True)
    moto = ctx.moto()
    flows = bench_flows(ctx.work, ctx.quick)
    fenv, menv = flowc_env(moto), metaflow_env(ctx.work, moto)
    mf_sub = {"argo": ["argo-workflows", "create", "--only-json"],
              "stepfunctions": ["step-functions", "create", "--only-json"]}
    for name, paths in flows.items():
        for target in ("argo", "stepfunctions"):
            path = paths[target]
            outdir = os.path.join(ctx.work, "out", target, os.path.basename(path))
            cache = os.path.join(ctx.work, "out", "cache")

            def fresh(outdir=outdir, cache=cache):
                shutil.rmtree(outdir, ignore_errors=True)
                shutil.rmtree(cache, ignore_errors=True)
            cmds = [Cmd("flowc", flowc_cmd() + ["compile", path, "-t", target, "-o", outdir, "--cache-dir", cache],
                        ctx.work, fenv, before=fresh)]
            mf = None
            if ctx.mf_py:
                mf = Cmd("metaflow", [ctx.mf_py, path, "--no-pylint"] + mf_sub[target], os.path.dirname(path),
                         menv)
                cmds.append(mf)
            # Metaflow's SFN create of 100 steps takes ~20 s: 3 runs give a stable enough median
            n = 3 if name.startswith("generated") and target == "stepfunctions" else reps
            try:
                out = interleaved(cmds, n)
            except RuntimeError as e:
                print("    failed: %s" % str(e)[-600:])
                out = interleaved(cmds[:1], n)
                mf = None
            ctx.row("compile %s: %s (cold) vs create --only-json" % (target, name), out["flowc"]["median"],
                    out["metaflow"]["median"] if mf else None, goal=GOALS[target], reps=n)
            if name == "resources.py":
                fresh()
                run_once(cmds[0])
                sizes_out[target] = (outdir, mf.last_out if mf else None)


# ------------------------------------------------------------------------------ size
def _json_obj(text):
    """Metaflow prints log lines then the JSON document: take the outermost {...}."""
    start = text.index("{")
    return json.loads(text[start:text.rindex("}") + 1])


def _task_overrides(states, out):
    for st in states.values():
        if st.get("Type") == "Task" and "ContainerOverrides" in st.get("Parameters", {}):
            out.append(st["Parameters"]["ContainerOverrides"])
        for sub in ("Iterator", "ItemProcessor"):
            if sub in st:
                _task_overrides(st[sub]["States"], out)
        for br in st.get("Branches", []):
            _task_overrides(br["States"], out)
    return out


def bench_size(ctx: Context, sizes_out: dict, steps: int = 5) -> None:
    import yaml

    print("\n[compile] output size, resources.py (%d steps)" % steps, flush=True)
    if "argo" in sizes_out:
        outdir, mf_out = sizes_out["argo"]
        every = sorted(glob.glob(os.path.join(outdir, "*.yaml")))
        # the code ConfigMap (*-code.yaml) carries the zipped code package, which Metaflow uploads
        # to S3 instead of putting in the document: counted apart.
        files = [f for f in every if not f.endswith("-code.yaml")]
        code_bytes = sum(os.path.getsize(f) for f in every if f.endswith("-code.yaml"))
        fc_bytes = sum(os.path.getsize(f) for f in files)
        fc_docs = [d for f in files for d in yaml.safe_load_all(open(f)) if d]
        fc_json = sum(len(json.dumps(d, separators=(",", ":"))) for d in fc_docs)
        mf_yaml = mf_json = None
        if mf_out:
            mdoc = _json_obj(mf_out)
            mf_yaml = len(yaml.safe_dump(mdoc, sort_keys=False).encode())
            mf_json = len(json.dumps(mdoc, separators=(",", ":")))
        package = ("+ %d B code ConfigMap, the package Metaflow puts in S3" % code_bytes if code_bytes else
                   "the package is fetched from the S3 datastore, as Metaflow's is")
        ctx.row("Argo YAML bytes/step", fc_bytes / steps, mf_yaml and mf_yaml / steps, unit="B",
                note="flowc: %s (%s); Metaflow: its JSON dumped as YAML" % (
                    ", ".join(os.path.basename(f) for f in files), package))
        ctx.row("Argo compact JSON bytes/step", fc_json / steps, mf_json and mf_json / steps, unit="B")
    if "stepfunctions" in sizes_out:
        outdir, mf_out = sizes_out["stepfunctions"]
        asl = json.load(open(glob.glob(os.path.join(outdir, "*.asl.json"))[0]))
        fc = _task_overrides(asl["States"], [])
        fcb = sum(len(json.dumps(o, separators=(",", ":"))) for o in fc)
        mfb = None
        if mf_out:
            mo = _task_overrides(_json_obj(mf_out)["States"], [])
            mfb = sum(len(json.dumps(o, separators=(",", ":"))) for o in mo) / max(1, len(mo))
        ctx.row("SFN ContainerOverrides bytes/Task state", fcb / max(1, len(fc)), mfb, unit="B",
                note="compact JSON, %d flowc Task states" % len(fc))


def run(ctx: Context) -> None:
    bench_show(ctx)
    sizes: dict = {}
    bench_create(ctx, sizes)
    bench_size(ctx, sizes)
