"""Container start to the first line of user code, with the exact Batch job-definition command
and environment flowc emits for benchmarks/flows/first_line.py, run as a local process on a
stdlib-only python (as in `python:3.11`: no boto3 to lean on):

  zip fetched  the code package is not in FLOWC_CODE_CACHE: the bootstrap's stdlib SigV4 GET
               fetches it from a moto S3 server (a fresh container)
  zip cached   it is (a retried task on the same host)

Timed from spawning the process to the wall-clock time the step's first line prints; the two
cases interleaved. One more fetched run goes through tests/doubles/sigv4.py (botocore's signer
recomputes the signature from what arrives, as S3 does) and must be accepted: the figure is of
a request S3 would take. No Metaflow figure: its Batch command needs its own image setup.
Goal (issue 17): <= 0.2 s with the zip fetched.
"""
from __future__ import annotations

import glob
import json
import os
import resource
import shutil
import subprocess
import time

from benchlib import HERE, REPO, Context, flowc_cmd, flowc_env

NAME = "container"
GOAL_S = 0.2


def run(ctx: Context) -> None:
    import sys

    sys.path.insert(0, REPO)
    from compiler.pipeline import build_code_package
    from compiler.runtime_spec import plan_for_file
    from tests.stdlib_python import stdlib_python

    reps = 5 if ctx.quick else 9
    print("\n[container] process start -> first line of the user's step (interleaved, median of %d)" % reps,
          flush=True)
    moto = ctx.moto()
    work = os.path.join(ctx.work, "container")
    os.makedirs(work, exist_ok=True)
    flow = os.path.join(work, "first_line.py")
    shutil.copy(os.path.join(HERE, "flows", "first_line.py"), flow)
    outdir = os.path.join(work, "out")
    subprocess.run(flowc_cmd() + ["compile", flow, "-t", "stepfunctions", "-o", outdir, "--cache-dir",
                                  os.path.join(work, "cache")], env=flowc_env(moto), check=True, capture_output=True)
    jobdef = json.load(open(glob.glob(os.path.join(outdir, "*.jobdef.json"))[0]))
    cont = jobdef["containerProperties"]
    env = {e["name"]: e["value"] for e in cont["environment"]}

    class _S:
        datastore = "s3://bench/flowc"
    plan, _ = plan_for_file(flow, None, None, ())
    assert plan is not None
    pkg = build_code_package(plan, _S())
    assert pkg.sha256 == env["FLOWC_CODE_SHA256"], "code package differs from the compiled one"
    bucket, _, key = env["FLOWC_CODE_URL"][5:].partition("/")
    moto.client("s3").put_object(Bucket=bucket, Key=key, Body=pkg.data)

    py = stdlib_python()
    penv = {"PATH": os.path.dirname(py) + os.pathsep + os.environ.get("PATH", ""),
            "HOME": work, "LANG": "C.UTF-8", "FLOWC_CODE_CACHE": os.path.join(work, "code-cache")}
    penv.update(moto.aws_env)
    penv.update(env)
    cache = os.path.join(penv["FLOWC_CODE_CACHE"], "flowc-code-%s.zip" % env["FLOWC_CODE_SHA256"])
    runs = iter(range(100000))

    def once(cold: bool, endpoint: str | None = None) -> float:
        args = ["task", "--run-id", "bench%d" % next(runs), "--step", "start", "--index-path", "",
                "--attempt", "0", "--params-json", "{}"]
        if cold and os.path.exists(cache):
            os.remove(cache)
        e = penv
        if endpoint:      # every S3 endpoint the bootstrap or the task may read points at it
            e = dict(penv, **{k: endpoint for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "FLOWC_S3_ENDPOINT")
                              if k in penv or k == "AWS_ENDPOINT_URL"})
        t0 = time.time()
        p = subprocess.Popen(list(cont["command"]) + args, env=e, cwd=work, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        first = None
        assert p.stdout is not None and p.stderr is not None
        for line in p.stdout:
            if line.startswith("FLOWC_BENCH_FIRST_LINE"):
                first = float(line.split()[1]) - t0
        err = p.stderr.read()
        if p.wait() != 0 or first is None:
            raise RuntimeError("container command failed:\n" + err[-2000:])
        return first

    once(True)                                  # first-ever start (page cache) is not timed
    cold, warm = [], []
    cpu = {True: 0.0, False: 0.0}
    for i in range(reps):
        for c in ((True, False) if i % 2 == 0 else (False, True)):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            (cold if c else warm).append(once(c))
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[c] += (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / reps
    signed = _through_sigv4_double(moto, lambda endpoint: once(True, endpoint))
    t0 = time.perf_counter()
    for _ in range(reps):
        subprocess.run([py, "-c", "pass"])
    bare = (time.perf_counter() - t0) / reps
    import statistics

    ctx.row("container start -> first user line (zip fetched from S3)", statistics.median(cold), None,
            goal_abs=GOAL_S, reps=reps,
            note="package %d KiB; CPU of the whole task %.3fs; bare `python -c pass` %.3fs; %s" % (
                len(pkg.data) // 1024, cpu[True], bare, signed))
    ctx.row("container start -> first user line (zip cached)", statistics.median(warm), None, goal_abs=GOAL_S,
            reps=reps, note="CPU of the whole task %.3fs" % cpu[False])


def _through_sigv4_double(moto, fetch) -> str:
    """One fetched start through the SigV4-verifying double; a rejection fails the figure."""
    try:
        from tests.doubles.sigv4 import Keys, SigV4Double
    except ImportError as e:      # botocore missing in this venv
        return "signature not verified (%s)" % e
    double = SigV4Double(Keys({"bench": "bench"}), upstream=moto.url)
    try:
        dt = fetch(double.endpoint)
        gets = [r for r in double.received if r["method"] == "GET" and ".zip" in r["path"]]
        if double.rejected or not gets:
            raise RuntimeError("the bootstrap's S3 GET was not accepted by the SigV4 double: %r" % (
                [r.get("problem") for r in double.rejected] or "no GET seen"))
        return "its GET verified by the SigV4 double (%.3fs through the proxy)" % dt
    finally:
        double.stop()
