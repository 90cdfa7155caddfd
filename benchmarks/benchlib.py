"""What every benchmark script shares: the pinned Metaflow venv, a moto server, clean environments,
interleaved A/B timing of whole processes, and the rows that run_all.py writes to RESULTS.md.

A benchmark script (listed in run_all.SCRIPTS) is a module with `NAME` (its --only name) and
`run(ctx: Context) -> None`, which measures and calls `ctx.row(...)` once per figure.
"""
from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VALID = os.path.join(REPO, "tests", "flows", "shared", "valid")
MF_VENV = os.path.join(HERE, ".venv-metaflow")
MF_PY = os.path.join(MF_VENV, "bin", "python")
ACCOUNT = "123456789012"

# The Metaflow venv, pinned (what RESULTS.md compares against): Metaflow itself, numpy for the
# artifact figures, moto's server for the S3/Batch endpoint Metaflow's `create --only-json` needs,
# and the kubernetes client that `argo-workflows create` imports.
MF_VERSION = "2.19.39"
MF_PACKAGES = ["metaflow==" + MF_VERSION, "numpy==2.4.6", "moto[server]==5.2.5", "kubernetes==33.1.0",
               "python-dateutil==2.9.0.post0", "boto3==1.44.8", "botocore==1.44.8"]
MF_CHECK = "import metaflow, numpy, moto.server, kubernetes; assert metaflow.__version__ == %r" % MF_VERSION


def ensure_metaflow() -> str | None:
    """benchmarks/.venv-metaflow with MF_PACKAGES, created or repaired when needed."""
    if os.path.exists(MF_PY) and subprocess.run([MF_PY, "-c", MF_CHECK], capture_output=True).returncode == 0:
        return MF_PY
    print("setting up %s with %s ..." % (MF_VENV, " ".join(MF_PACKAGES)), flush=True)
    try:
        if not os.path.exists(MF_PY):
            subprocess.run([sys.executable, "-m", "venv", MF_VENV], check=True)
        subprocess.run([MF_PY, "-m", "pip", "install", "-q"] + MF_PACKAGES, check=True)
        return MF_PY
    except (subprocess.CalledProcessError, OSError) as e:
        print("cannot set up Metaflow (%s): skipping the Metaflow figures" % e)
        return None


FLOWC_VENV = os.path.join(HERE, ".venv-flowc")
FLOWC_WHEEL_EXE = os.path.join(FLOWC_VENV, "bin", "flowc")


def _source_stamp() -> str:
    """Size and mtime of every file `pip install .` takes from the checkout."""
    import hashlib

    parts = []
    for top in ("compiler", "runtime_shim", "templates", "pyproject.toml", "setup.py"):
        path = os.path.join(REPO, top)
        walk = os.walk(path) if os.path.isdir(path) else [(REPO, [], [top])]
        for dirpath, dirs, files in walk:
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for f in sorted(files):
                st = os.stat(os.path.join(dirpath, f))
                parts.append((os.path.relpath(os.path.join(dirpath, f), REPO), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def ensure_flowc_wheel() -> str | None:
    """benchmarks/.venv-flowc with this checkout installed as a user installs it (`pip install .`,
    not editable: no editable-install finder on every start), reinstalled when the sources
    changed. The `flowc` executable, or None when it cannot be set up."""
    py = os.path.join(FLOWC_VENV, "bin", "python")
    stamp_file = os.path.join(FLOWC_VENV, "flowc-source.stamp")
    stamp = _source_stamp()
    try:
        with open(stamp_file) as fh:
            if fh.read() == stamp and os.path.exists(FLOWC_WHEEL_EXE):
                return FLOWC_WHEEL_EXE
    except OSError:
        pass
    print("installing flowc (pip install .) into %s ..." % FLOWC_VENV, flush=True)
    try:
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", FLOWC_VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", REPO], check=True,
                       cwd=HERE)
        subprocess.run([py, "-m", "pip", "install", "-q", REPO], check=True, cwd=HERE)   # its dependencies
        with open(stamp_file, "w") as fh:
            fh.write(stamp)
        return FLOWC_WHEEL_EXE
    except (subprocess.CalledProcessError, OSError) as e:
        print("cannot install flowc into %s (%s): skipping the installed-wheel figures" % (FLOWC_VENV, e))
        return None


def clean_env(**extra: str) -> dict:
    """The environment both sides run in: bytecode may be written and read (as after a pip
    install; PYTHONDONTWRITEBYTECODE would make flowc recompile itself on every start), no
    PYTHONPATH leaking one venv into the other."""
    env = dict(os.environ)
    for k in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "FLOWC_NO_CACHE", "FLOWC_NO_REPLAY"):
        env.pop(k, None)
    env.update(extra)
    return env


def flowc_cmd() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "flowc")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "compiler.entry"]


# ------------------------------------------------------------------------------ timing
class Cmd:
    """One side of an A/B: argv run as a whole process; `before` runs untimed before each run
    (e.g. empty a cache), `check` sees (stdout, stderr) and raises when the run is not right."""

    def __init__(self, name: str, argv: list[str], cwd: str, env: dict, before: Callable | None = None,
                 timeout: float | None = None, parse: Callable[[str], float] | None = None):
        self.name, self.argv, self.cwd, self.env = name, argv, cwd, env
        self.before, self.timeout, self.parse = before, timeout, parse
        self.last_out = ""          # stdout of the latest run


class TimedOut(Exception):
    pass


def run_once(c: Cmd) -> float:
    """Wall time of one run (or, with c.parse, the time the process reports on stdout)."""
    if c.before:
        c.before()
    t0 = time.perf_counter()
    p = subprocess.Popen(c.argv, cwd=c.cwd, env=c.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=c.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise TimedOut(c.name) from None
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed (%s):\n%s" % (c.name, " ".join(c.argv)[:300], err[-2000:]))
    c.last_out = out
    return c.parse(out) if c.parse else dt


def interleaved(cmds: list[Cmd], reps: int) -> dict[str, dict]:
    """Each side `reps` times, alternating A B / B A so both see the same minutes of machine noise.
    -> name: {"median", "times", "timed_out"}; a side that times out is not run again."""
    times: dict[str, list[float]] = {c.name: [] for c in cmds}
    dead: set[str] = set()
    for i in range(reps):
        for c in (cmds if i % 2 == 0 else list(reversed(cmds))):
            if c.name in dead:
                continue
            try:
                times[c.name].append(run_once(c))
            except TimedOut:
                dead.add(c.name)
    return {name: {"median": statistics.median(t) if t else None, "times": t, "timed_out": name in dead}
            for name, t in times.items()}


# ------------------------------------------------------------------------------ moto
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
        for _ in range(300):
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


def flowc_env(moto: Moto) -> dict:
    return clean_env(**moto.aws_env, **{
        "FLOWC_DATASTORE": "s3://bench/flowc", "FLOWC_S3_ENDPOINT": moto.url,
        "FLOWC_BATCH_QUEUE": "bench-queue", "FLOWC_K8S_NAMESPACE": "default",
        "FLOWC_K8S_SERVICE_ACCOUNT": "default",
        "FLOWC_SFN_ROLE_ARN": "arn:aws:iam::%s:role/sfn" % ACCOUNT,
        "FLOWC_BATCH_JOB_ROLE_ARN": "arn:aws:iam::%s:role/ecs" % ACCOUNT,
        "FLOWC_AWS_REGION": "us-east-1"})


def metaflow_env(work: str, moto: Moto | None = None) -> dict:
    """Metaflow with a private home and local metadata; with moto, what `argo-workflows create` /
    `step-functions create --only-json` need (S3 datastore, Batch queue, roles)."""
    env = clean_env(USERNAME="bench", METAFLOW_HOME=work, METAFLOW_DEFAULT_METADATA="local",
                    METAFLOW_DATASTORE_SYSROOT_LOCAL=work, METAFLOW_DEFAULT_DATASTORE="local")
    if moto is not None:
        env.update(moto.aws_env)
        env.update({
            "METAFLOW_DEFAULT_DATASTORE": "s3",
            "METAFLOW_DATASTORE_SYSROOT_S3": "s3://bench/metaflow",
            "METAFLOW_S3_ENDPOINT_URL": moto.url,
            "METAFLOW_KUBERNETES_NAMESPACE": "default",
            "METAFLOW_KUBERNETES_SERVICE_ACCOUNT": "default",
            "METAFLOW_SFN_IAM_ROLE": "arn:aws:iam::%s:role/sfn" % ACCOUNT,
            "METAFLOW_ECS_S3_ACCESS_IAM_ROLE": "arn:aws:iam::%s:role/ecs" % ACCOUNT,
            "METAFLOW_BATCH_JOB_QUEUE": "bench-queue",
            "METAFLOW_SFN_DYNAMO_DB_TABLE": "bench-table",
        })
    return env


# ------------------------------------------------------------------------------ rows
def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        return "%.3fs" % v
    if unit == "B":
        return "%dB" % v
    if unit == "MiB":
        return "%.0f MiB" % v
    return "%.3g%s" % (v, unit)


class Context:
    """What a script gets: settings of this run, the Metaflow python (or None), a scratch
    directory, a shared moto server started on first use, and row() for its figures."""

    def __init__(self, quick: bool, mf_py: str | None, work: str, widths: list[int] | None = None,
                 max_workers: int = 16):
        self.quick, self.mf_py, self.work = quick, mf_py, work
        self.widths, self.max_workers = widths, max_workers
        self.rows: list[dict] = []
        self._moto: Moto | None = None

    def moto(self) -> Moto:
        if self._moto is None:
            self._moto = Moto()
        return self._moto

    def close(self) -> None:
        if self._moto is not None:
            self._moto.stop()

    def row(self, figure, flowc, metaflow=None, unit="s", goal=None, note="", goal_abs=None,
            reps=None) -> dict:
        """goal: the ratio flowc/Metaflow must stay at or under it; goal_abs: flowc's value must."""
        ratio = flowc / metaflow if (metaflow and flowc is not None) else None
        met = None
        if goal is not None and ratio is not None:
            met = ratio <= goal
        if goal_abs is not None and flowc is not None:
            met = flowc <= goal_abs
        if reps:
            note = ("median of %d; " % reps + note).strip("; ") if reps > 1 else ("1 run; " + note).strip("; ")
        r = dict(figure=figure, flowc=flowc, metaflow=metaflow, unit=unit, ratio=ratio,
                 goal=("<= %.2fx" % goal if goal is not None else
                       ("<= %g %s" % (goal_abs, unit) if goal_abs is not None else "")),
                 met=met, note=note)
        self.rows.append(r)
        print("  %-46s flowc %-11s metaflow %-11s ratio %-7s %s %s" % (
            figure, fmt(flowc, unit), fmt(metaflow, unit),
            "%.3fx" % ratio if ratio is not None else "-",
            {True: "goal met", False: "GOAL MISSED", None: ""}[met], note), flush=True)
        return r
