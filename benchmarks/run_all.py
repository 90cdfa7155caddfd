"""flowc vs Metaflow 2.19: every benchmark figure, measured in one run.

    python benchmarks/run_all.py [--quick] [--write-results] [--only compile,scaling,...]

Installs nothing into the project's environment: Metaflow 2.19, moto[server] and the kubernetes
client go into benchmarks/.venv-metaflow (created by bench_run.ensure_metaflow when absent).
A moto server on 127.0.0.1 stands in for S3 and Batch (Metaflow's `create --only-json` talks to
both; flowc's in-container bootstrap fetches its code package from it).

Figures (each: flowc, Metaflow, ratio flowc/Metaflow; medians of several runs, interleaved):
  compile    whole-process `flowc compile -t argo|stepfunctions` vs
             `python FLOW.py argo-workflows|step-functions create --only-json`
  scaling    front end in-process on generated 100..10,000-step flows (frontend_scaling.py);
             Metaflow: flow import + FlowGraph + linter (_metaflow_frontend_bench.py)
  run        `flowc run` vs `python FLOW.py run` (bench_run.bench_wide), equal --max-workers
  container  process start -> first line of the user's step, code package fetched from moto S3,
             with the exact Batch job-definition command and environment flowc emits
  artifacts  1 GiB numpy array and 100,000 small artifacts: flowc datastore, Metaflow
             TaskDataStore, raw numpy (bench_run.bench_artifact, _metaflow_datastore_bench.py)
  size       bytes per step of the Argo document and of the SFN ContainerOverrides, resources.py
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

import bench_fork  # noqa: E402
import bench_run  # noqa: E402
import frontend_scaling  # noqa: E402

VALID = os.path.join(REPO, "tests", "flows", "shared", "valid")
MF_VENV = bench_run.MF_VENV
FLOWC_BIN = os.path.join(os.path.dirname(sys.executable), "flowc")
ACCOUNT = "123456789012"
GOALS = {"compile_argo": 1 / 3, "compile_stepfunctions": 1 / 5, "run": 0.1}

RESULTS: list[dict] = []   # rows: figure, flowc, metaflow, ratio, goal, met, note


def row(figure, flowc, metaflow=None, unit="s", goal=None, note="", goal_abs=None):
    ratio = flowc / metaflow if (metaflow and flowc is not None) else None
    met = None
    if goal is not None and ratio is not None:
        met = ratio <= goal
    if goal_abs is not None and flowc is not None:
        met = flowc <= goal_abs
    r = dict(figure=figure, flowc=flowc, metaflow=metaflow, unit=unit, ratio=ratio,
             goal=("<= %.2fx" % goal if goal is not None else
                   ("<= %g %s" % (goal_abs, unit) if goal_abs is not None else "")),
             met=met, note=note)
    RESULTS.append(r)
    print("  %-46s flowc %-11s metaflow %-11s ratio %-7s %s %s" % (
        figure, _fmt(flowc, unit), _fmt(metaflow, unit),
        "%.3fx" % ratio if ratio is not None else "-",
        {True: "goal met", False: "GOAL MISSED", None: ""}[met], note), flush=True)
    return r


def _fmt(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        return "%.3fs" % v
    if unit == "B":
        return "%dB" % v
    return "%.3g%s" % (v, unit)


# ---------------------------------------------------------------------------------- moto
class Moto:
    """A moto server from the Metaflow venv, with a bucket and Batch job queues."""

    def __init__(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="flowc-bench-moto-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([os.path.join(MF_VENV, "bin", "moto_server"), "-H", "127.0.0.1",
                                      "-p", str(self.port)], stdout=self.log, stderr=self.log)
        import urllib.request
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url, timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto server did not start (log %s)" % self.log.name)
        self.aws_env = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.url}
        self._setup()

    def client(self, name):
        import boto3
        return boto3.client(name, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="bench", aws_secret_access_key="bench")

    def _setup(self):
        self.client("s3").create_bucket(Bucket="bench")
        iam, ec2, batch = self.client("iam"), self.client("ec2"), self.client("batch")
        role = iam.create_role(RoleName="bench-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
        profile = iam.create_instance_profile(InstanceProfileName="bench")["InstanceProfile"]["Arn"]
        # Metaflow reads computeResources.type of the queue's compute environment: MANAGED EC2.
        ce = batch.create_compute_environment(
            computeEnvironmentName="bench-ce", type="MANAGED", serviceRole=role,
            computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 4, "desiredvCpus": 0,
                              "instanceTypes": ["optimal"], "subnets": [subnet],
                              "securityGroupIds": [sg], "instanceRole": profile})
        for q in ("bench-queue", "gpu-queue"):
            batch.create_job_queue(jobQueueName=q, state="ENABLED", priority=1, computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def metaflow_env(moto: Moto, work: str) -> dict:
    """What Metaflow's `argo-workflows create` / `step-functions create --only-json` need."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(moto.aws_env)
    env.update({
        "USERNAME": "bench",
        "METAFLOW_HOME": work,                      # no ~/.metaflowconfig of the user
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": "s3://bench/metaflow",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": work,
        "METAFLOW_S3_ENDPOINT_URL": moto.url,
        "METAFLOW_KUBERNETES_NAMESPACE": "default",
        "METAFLOW_KUBERNETES_SERVICE_ACCOUNT": "default",
        "METAFLOW_SFN_IAM_ROLE": "arn:aws:iam::%s:role/sfn" % ACCOUNT,
        "METAFLOW_ECS_S3_ACCESS_IAM_ROLE": "arn:aws:iam::%s:role/ecs" % ACCOUNT,
        "METAFLOW_BATCH_JOB_QUEUE": "bench-queue",
        "METAFLOW_SFN_DYNAMO_DB_TABLE": "bench-table",
    })
    return env


def flowc_env(moto: Moto) -> dict:
    env = dict(os.environ)
    env.update(moto.aws_env)
    env.update({"FLOWC_DATASTORE": "s3://bench/flowc", "FLOWC_S3_ENDPOINT": moto.url,
                "FLOWC_BATCH_QUEUE": "bench-queue", "FLOWC_K8S_NAMESPACE": "default",
                "FLOWC_K8S_SERVICE_ACCOUNT": "default",
                "FLOWC_SFN_ROLE_ARN": "arn:aws:iam::%s:role/sfn" % ACCOUNT,
                "FLOWC_BATCH_JOB_ROLE_ARN": "arn:aws:iam::%s:role/ecs" % ACCOUNT,
                "FLOWC_AWS_REGION": "us-east-1"})
    return env


def timed(cmd, cwd, env, capture=False):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stderr[-3000:]))
    return dt, (p.stdout if capture else None)


# ------------------------------------------------------------------------------ flow files
def bench_flows(work: str) -> dict:
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
    out = {}
    for name, argo_text, sfn_text in [
            ("hello.py", open(os.path.join(VALID, "hello.py")).read(), None),
            ("resources.py", k8s_only, batch_only),
            ("generated 100 steps", frontend_scaling.generate(100), None)]:
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


# ---------------------------------------------------------------------------------- compile
def bench_compile(moto, mf_py, reps, work, sizes_out):
    print("\n[1] compile (whole process, median of %d)" % reps, flush=True)
    flows = bench_flows(work)
    fenv, menv = flowc_env(moto), metaflow_env(moto, work)
    flowc_cmd = [FLOWC_BIN] if os.path.exists(FLOWC_BIN) else [sys.executable, "-m", "compiler.cli"]
    mf_sub = {"argo": ["argo-workflows", "create", "--only-json"],
              "stepfunctions": ["step-functions", "create", "--only-json"]}
    for name, paths in flows.items():
        for target in ("argo", "stepfunctions"):
            path = paths[target]
            outdir = os.path.join(work, "out", target, os.path.basename(path))
            fc, mf = [], []
            reps_here = reps
            mf_out = None
            for i in range(reps):
                shutil.rmtree(outdir, ignore_errors=True)
                fc.append(timed(flowc_cmd + ["compile", path, "-t", target, "-o", outdir], REPO, fenv)[0])
                if mf_py:
                    try:
                        dt, so = timed([mf_py, path, "--no-pylint"] + mf_sub[target], os.path.dirname(path),
                                       menv, capture=True)
                        mf.append(dt)
                        mf_out = so
                        if dt > 20 and len(mf) >= 3:
                            break      # slow enough that 3 runs give a stable median
                    except RuntimeError as e:
                        print("    metaflow failed: %s" % str(e)[-600:])
                        break
            key = "compile_" + target
            row("compile %s: %s" % (target, name), statistics.median(fc),
                statistics.median(mf) if mf else None, goal=GOALS[key])
            if name == "resources.py":
                sizes_out[target] = (outdir, mf_out)


# ---------------------------------------------------------------------------------- size
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


def bench_size(sizes_out, steps=5):
    import yaml

    print("\n[6] output size, resources.py (%d steps)" % steps, flush=True)
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
        row("Argo YAML bytes/step", fc_bytes / steps, mf_yaml and mf_yaml / steps, unit="B",
            note="flowc: %s (+ %d B code ConfigMap, the package Metaflow puts in S3); "
                 "Metaflow: its JSON dumped as YAML" % (", ".join(os.path.basename(f) for f in files), code_bytes))
        row("Argo compact JSON bytes/step", fc_json / steps, mf_json and mf_json / steps, unit="B")
    if "stepfunctions" in sizes_out:
        outdir, mf_out = sizes_out["stepfunctions"]
        asl = json.load(open(glob.glob(os.path.join(outdir, "*.asl.json"))[0]))
        fc = _task_overrides(asl["States"], [])
        fcb = sum(len(json.dumps(o, separators=(",", ":"))) for o in fc)
        mfb = None
        if mf_out:
            mo = _task_overrides(_json_obj(mf_out)["States"], [])
            mfb = sum(len(json.dumps(o, separators=(",", ":"))) for o in mo) / max(1, len(mo))
        row("SFN ContainerOverrides bytes/Task state", fcb / max(1, len(fc)), mfb, unit="B",
            note="compact JSON, %d flowc Task states" % len(fc))


# ---------------------------------------------------------------------------------- scaling
def bench_scaling(mf_py, sizes, work, mf_timeout=120):
    from compiler.frontend.api import analyze_file

    print("\n[2] front end, in-process (flowc: analyze_file; Metaflow: import + FlowGraph + lint)",
          flush=True)
    per_step = {}
    mf_failed = 0
    for n in sizes:
        path = os.path.join(work, "scale_%d.py" % n)
        with open(path, "w") as fh:
            fh.write(frontend_scaling.generate(n))
        reps = 5 if n <= 2000 else 3
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            a = analyze_file(path)
            times.append(time.perf_counter() - t)
        assert a.ok, a.diagnostics[:3]
        fc = statistics.median(times)
        per_step[n] = fc / n
        mf, note = None, ""
        if mf_py and mf_failed:
            note = "Metaflow not tried: it already failed at %d steps" % mf_failed
        elif mf_py:
            mreps = 3 if n <= 100 else 1
            try:
                p = subprocess.run([mf_py, os.path.join(HERE, "_metaflow_frontend_bench.py"), path, str(mreps)],
                                   capture_output=True, text=True, timeout=mf_timeout)
                if p.returncode == 0:
                    mf = statistics.median(json.loads(p.stdout.strip().splitlines()[-1])["times"])
                else:
                    note = "Metaflow fails: " + p.stderr.strip().splitlines()[-1][:80]
                    mf_failed = n
            except subprocess.TimeoutExpired:
                note = "Metaflow: no result within %d s" % mf_timeout
                mf_failed = n
        lin = "%.2f ms/step (%.2fx the 100-step rate)" % (1000 * fc / n, (fc / n) / per_step[sizes[0]])
        row("front end %d steps" % n, fc, mf, note=(lin + "; " + note).strip("; "))


# ---------------------------------------------------------------------------------- run
def bench_local_run(mf_py, reps, widths, max_workers, mf_timeout=None):
    print("\n[3] local run, --max-workers %d (median of %d)" % (max_workers, reps), flush=True)
    out = bench_run.bench_wide(None, mf_py, reps, flow_src=os.path.join(VALID, "hello.py"),
                               max_workers=max_workers)
    row("run hello.py", out["flowc_run_s"], out.get("metaflow_run_s"), goal=GOALS["run"])
    for w in widths:
        r = reps if w <= 100 else 1
        out = bench_run.bench_wide(w, mf_py, r, max_workers=max_workers, mf_timeout=mf_timeout)
        note = "%d run(s)" % r
        if "metaflow_timeout_s" in out:
            note += "; Metaflow stopped after %d s unfinished: ratio < %.3fx" % (
                mf_timeout, out["flowc_run_s"] / mf_timeout)
        row("run wide_foreach.py width %d" % w, out["flowc_run_s"], out.get("metaflow_run_s"),
            goal=GOALS["run"], note=note)


# ---------------------------------------------------------------------------------- container
def bench_container(moto, reps, work):
    """Run the Batch job definition's command, with its environment, as a local process."""
    from compiler.pipeline import compile_file

    print("\n[4] in-container: process start -> first line of the user's step (median of %d)" % reps,
          flush=True)
    flow = os.path.join(work, "first_line.py")
    shutil.copy(os.path.join(HERE, "flows", "first_line.py"), flow)
    outdir = os.path.join(work, "container-out")
    subprocess.run([FLOWC_BIN, "compile", flow, "-t", "stepfunctions", "-o", outdir], env=flowc_env(moto),
                   check=True, capture_output=True)
    jobdef = json.load(open(glob.glob(os.path.join(outdir, "*.jobdef.json"))[0]))
    cont = jobdef["containerProperties"]
    env = {e["name"]: e["value"] for e in cont["environment"]}
    # upload the code package the job definition names (what `flowc deploy` does)
    from compiler.runtime_spec import plan_for_file
    from compiler.pipeline import build_code_package

    class _S:
        datastore = "s3://bench/flowc"
    plan, _ = plan_for_file(flow, None, None, ())
    pkg = build_code_package(plan, _S())
    assert pkg.sha256 == env["FLOWC_CODE_SHA256"], "code package differs from the compiled one"
    bucket, _, key = env["FLOWC_CODE_URL"][5:].partition("/")
    moto.client("s3").put_object(Bucket=bucket, Key=key, Body=pkg.data)
    # the image's python: stdlib only, as in `python:3.11` (no boto3 to lean on)
    sys.path.insert(0, os.path.dirname(HERE))
    from tests.stdlib_python import stdlib_python

    penv = {"PATH": os.path.dirname(stdlib_python()) + os.pathsep + os.environ.get("PATH", ""),
            "HOME": work, "LANG": "C.UTF-8", "FLOWC_CODE_CACHE": os.path.join(work, "code-cache")}
    penv.update(moto.aws_env)
    penv.update(env)
    cache = os.path.join(penv["FLOWC_CODE_CACHE"], "flowc-code-%s.zip" % env["FLOWC_CODE_SHA256"])
    runs = iter(range(1000))

    def once(cold):
        args = ["task", "--run-id", "bench%d" % next(runs), "--step", "start", "--index-path", "",
                "--attempt", "0", "--params-json", "{}"]
        if cold and os.path.exists(cache):
            os.remove(cache)
        t0 = time.time()
        p = subprocess.Popen(list(cont["command"]) + args, env=penv, cwd=work, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        first = None
        for line in p.stdout:
            if line.startswith("FLOWC_BENCH_FIRST_LINE"):
                first = float(line.split()[1]) - t0
        err = p.stderr.read()
        if p.wait() != 0 or first is None:
            raise RuntimeError("container command failed:\n" + err[-2000:])
        return first

    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cold = [once(True) for _ in range(reps)]
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_cold = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / reps
    warm = [once(False) for _ in range(reps)]
    cpu2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_warm = (cpu2.ru_utime + cpu2.ru_stime - cpu1.ru_utime - cpu1.ru_stime) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        subprocess.run([stdlib_python(), "-c", "pass"])
    bare = (time.perf_counter() - t0) / reps
    row("container start -> first user line (S3 fetch)", statistics.median(cold), None, goal_abs=0.3,
        note="package %d KiB; CPU of the whole task %.3fs; bare `python -c pass` %.3fs; "
             "no Metaflow figure (its Batch command needs its own container image setup)" % (
                 len(pkg.data) // 1024, cpu_cold, bare))
    row("container start -> first user line (zip cached)", statistics.median(warm), None, goal_abs=0.3,
        note="CPU of the whole task %.3fs" % cpu_warm)


# ---------------------------------------------------------------------------------- artifacts
def bench_small_artifacts(mf_py, n, work):
    from runtime_shim.datastore import FlowDatastore

    items = [("a%d" % i, (i, "value-%d" % i)) for i in range(n)]
    ds = FlowDatastore("file://" + os.path.join(work, "flowc-small"), "BenchFlow")
    t0 = time.perf_counter()
    shas = [(name, ds.save_artifact(obj)[0]) for name, obj in items]
    t1 = time.perf_counter()
    back = {name: ds.load_artifact(sha) for name, sha in shas}
    t2 = time.perf_counter()
    assert back["a7"] == (7, "value-7")
    out = {"flowc_save_s": t1 - t0, "flowc_load_s": t2 - t1}
    if mf_py:
        p = subprocess.run([mf_py, os.path.join(HERE, "_metaflow_datastore_bench.py"),
                            os.path.join(work, "mf-small"), "--small", str(n)], capture_output=True, text=True)
        if p.returncode == 0:
            r = json.loads(p.stdout.strip().splitlines()[-1])
            out["metaflow_save_s"], out["metaflow_load_s"] = r["save"], r["load"]
        else:
            print("    metaflow failed: " + p.stderr[-500:])
    return out


def bench_artifacts(mf_py, gib, n_small, work):
    print("\n[5] artifacts (local disk)", flush=True)
    a = bench_run.bench_artifact(gib, mf_py)
    row("artifact %.2g GiB numpy save+load" % gib, a["flowc_total_s"], a.get("metaflow_total_s"),
        note="raw numpy.save+load %.3fs (flowc %.2fx raw); save %.3f/load %.3f vs MF %s" % (
            a["raw_total_s"], a["flowc_over_raw"], a["flowc_save_s"], a["flowc_load_s"],
            "%.3f/%.3f" % (a["metaflow_save_s"], a["metaflow_load_s"]) if "metaflow_save_s" in a else "-"))
    s = bench_small_artifacts(mf_py, n_small, work)
    row("%d small artifacts save+load" % n_small, s["flowc_save_s"] + s["flowc_load_s"],
        (s["metaflow_save_s"] + s["metaflow_load_s"]) if "metaflow_save_s" in s else None,
        note="flowc: one blob each; save %.2f/load %.2f" % (s["flowc_save_s"], s["flowc_load_s"]))


# ---------------------------------------------------------------------------------- report
def machine() -> dict:
    try:
        mem = [l for l in open("/proc/meminfo") if l.startswith("MemTotal")][0].split()[1]
        mem = "%.1f GiB" % (int(mem) / 1024 / 1024)
    except Exception:
        mem = "?"
    mf = subprocess.run([bench_run.MF_PY, "-c", "import metaflow;print(metaflow.__version__)"],
                        capture_output=True, text=True).stdout.strip() if os.path.exists(bench_run.MF_PY) else "-"
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "memory": mem, "python": sys.version.split()[0],
            "platform": platform.platform(), "loadavg": "%.2f %.2f %.2f" % os.getloadavg(),
            "metaflow": mf,
            "flowc_commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                           capture_output=True, text=True).stdout.strip()}


NOTES = """
## How each figure is measured

- **compile**: wall time of the whole process, `flowc compile FLOW -t argo|stepfunctions -o DIR` vs
  `python FLOW.py --no-pylint argo-workflows|step-functions create --only-json` (Metaflow against a
  moto server: S3 datastore, Batch queues in a MANAGED EC2 compute environment, dummy credentials;
  see `metaflow_env`). Metaflow's Step Functions `create` registers job definitions and uploads its
  code package even with `--only-json`. resources.py mixes @kubernetes and @batch, which Metaflow
  refuses on either engine: each engine gets the variant with every step on its own backend, and
  flowc compiles the same variant.
- **front end**: flowc `analyze_file` (parse, graph, lint) in-process; Metaflow: importing the flow
  module + `FlowGraph` + linter (what `FLOW.py check` does). The generated flows are
  frontend_scaling.generate(N): blocks of linear steps, a 2-way branch and a foreach.
- **run**: `flowc run` vs `python FLOW.py run`, same `--max-workers`, local datastores, tmp dirs.
- **container**: the Batch job definition flowc emits for benchmarks/flows/first_line.py, its
  `command` + `environment` run as a local process (plus `task --run-id ... --step start`), the code
  package uploaded to moto S3 at FLOWC_CODE_URL; time from spawning the process to the wall-clock
  time printed by the step's first line. "S3 fetch": /tmp/flowc-code-SHA.zip absent (a fresh
  container); "zip cached": present (a retried task on the same host).
- **artifacts**: local disk; 1 GiB float64 array through flowc's FlowDatastore, Metaflow's
  TaskDataStore (save_artifacts + load) and numpy.save/numpy.load; 100,000 small tuples.
- **size**: resources.py, 5 steps. flowc's Argo code ConfigMap (the zipped code package, which
  Metaflow uploads to S3 instead) is reported apart in the note.

The machine is shared and noisy (2 cores; see the load average above): wall-time medians move by
tens of percent between runs; the ratios are computed from runs interleaved in the same minutes.
"""


def write_results(info, args, path):
    lines = ["# flowc vs Metaflow benchmarks", "",
             "Generated by `python benchmarks/run_all.py%s --write-results`; rerun it to reproduce." %
             (" --quick" if args.quick else ""),
             "" if not args.only_given else
             "\nRows were last updated by a partial rerun (`--only ...`); the machine table is that "
             "rerun's and the `measured` column dates every row.", "",
             "| | |", "|---|---|"]
    lines += ["| %s | %s |" % (k, v) for k, v in info.items()]
    lines += ["| load average at end | %.2f %.2f %.2f |" % os.getloadavg(), "",
              "Times are medians (seconds) of several runs with flowc and Metaflow interleaved; "
              "ratio = flowc / Metaflow (lower is better for flowc).", "",
              "| figure | flowc | Metaflow 2.19 | ratio | goal | met | note | measured |",
              "|---|---|---|---|---|---|---|---|"]
    new_rows = {}
    for r in RESULTS:
        new_rows[r["figure"]] = "| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["figure"], _fmt(r["flowc"], r["unit"]), _fmt(r["metaflow"], r["unit"]),
            "%.3fx" % r["ratio"] if r["ratio"] is not None else "-", r["goal"],
            {True: "yes", False: "**no**", None: ""}[r["met"]], r["note"].replace("|", "/"),
            info["date"])
    # a partial run (--only) replaces its own rows and keeps the others, each dated
    old_rows = []
    if args.only_given and os.path.exists(path):
        old = open(path).read().splitlines()
        old_date = next((l.split("|")[2].strip() for l in old if l.startswith("| date |")), "?")
        old_rows = [l if l.count("|") >= 9 else l + " %s |" % old_date for l in old
                    if l.startswith("| ") and l.count("|") >= 8 and not l.startswith("| figure")]
    merged, seen = [], set()
    for l in old_rows:
        fig = l.split("|")[1].strip()
        merged.append(new_rows.get(fig, l))
        seen.add(fig)
    merged += [v for k, v in new_rows.items() if k not in seen]
    lines += merged
    lines += ["", NOTES.strip()]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote", path)


def guarded(fn, *args):
    """One figure failing (a tool's error) must not lose the others: report it and go on."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        msg = str(e).strip().splitlines()
        print("  %s FAILED: %s" % (fn.__name__, " ".join(msg[-3:])[:400]), flush=True)
        RESULTS.append(dict(figure="%s (failed)" % fn.__name__, flowc=None, metaflow=None, unit="s",
                            ratio=None, goal="", met=None, note=" ".join(msg[-3:])[:300]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    ap.add_argument("--write-results", action="store_true", help="write benchmarks/RESULTS.md")
    ap.add_argument("--only", default=None,
                    help="comma list of compile,size,scaling,run,container,artifacts,fork (default: all); "
                         "with --write-results only these rows of RESULTS.md are replaced")
    ap.add_argument("--skip-metaflow", action="store_true")
    ap.add_argument("--widths", default=None, help="wide_foreach widths (default 100,1000; quick: 100)")
    ap.add_argument("--mf-run-timeout", type=float, default=0,
                    help="stop a Metaflow local run after this many seconds (0: never)")
    ap.add_argument("--max-workers", type=int, default=16, help="for both runners (Metaflow's default)")
    a = ap.parse_args(argv)
    a.only_given = a.only is not None
    only = set((a.only or "compile,size,scaling,run,container,artifacts,fork").split(","))
    a.widths = a.widths or ("100" if a.quick else "100,1000")
    reps = 3 if a.quick else 5
    info = machine()
    print("machine:", json.dumps(info), flush=True)
    mf_py = None if a.skip_metaflow else bench_run.ensure_metaflow()
    work = tempfile.mkdtemp(prefix="flowc-bench-all-")
    moto = None
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # run the cleanup below
    try:
        if only & {"compile", "size", "container"}:
            moto = Moto()
        sizes_out = {}
        if only & {"compile", "size"}:
            guarded(bench_compile, moto, mf_py, reps, work, sizes_out)
        if "size" in only:
            guarded(bench_size, sizes_out)
        if "scaling" in only:
            guarded(bench_scaling, mf_py, [100, 1000, 2000] if a.quick else [100, 1000, 2000, 10000], work)
        if "container" in only:
            guarded(bench_container, moto, reps, work)
        if "run" in only:
            guarded(bench_local_run, mf_py, 3, [int(w) for w in a.widths.split(",")], a.max_workers,
                            a.mf_run_timeout or None)
        if "fork" in only:
            guarded(bench_fork.rows, row, mf_py, a.quick, a.max_workers, a.mf_run_timeout or None)
        if "artifacts" in only:
            guarded(bench_artifacts, mf_py, 0.25 if a.quick else 1.0, 10000 if a.quick else 100000, work)
    finally:
        if moto:
            moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    if a.write_results:
        write_results(info, a, os.path.join(HERE, "RESULTS.md"))
    return RESULTS


if __name__ == "__main__":
    main()
