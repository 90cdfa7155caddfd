"""Run one task of a flow: `python -m runtime_shim task ...` (see docs/runtime-contract.md).

Exit codes: 0 success (including a @catch-caught failure), 1 the user's step raised or timed out,
2 bad arguments or spec, 3 the runtime itself failed (a bug or an unreachable datastore).
"""
from __future__ import annotations

import json
import os
import sys

from runtime_shim.datastore import DatastoreError, FlowDatastore, task_id_for

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3
# where the task started, before it moves into its private copy of the flow: a local run starts
# it in the flow's own directory, so tracebacks can name the user's files there
try:
    START_CWD: str | None = os.getcwd()
except OSError:     # the directory was removed under us
    START_CWD = None


class UsageError(Exception):
    """Bad arguments, spec or parameter values (exit 2)."""


class UserError(Exception):
    """The user's code failed outside the step body, e.g. at import (exit 1)."""


def log(msg: str) -> None:
    sys.stderr.write("[flowc] %s\n" % msg)
    sys.stderr.flush()


# ------------------------------------------------------------------------------------------
# arguments


_OPTIONS = {"--spec": "spec", "--datastore": "datastore", "--run-id": "run_id",
            "--step": "step", "--index-path": "index_path", "--iteration": "iteration",
            "--attempt": "attempt", "--params-json": "params_json",
            "--params-file": "params_file", "--output-dir": "output_dir"}


_RUN_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"


class Args:
    spec = datastore = run_id = step = params_json = params_file = output_dir = None
    index_path = ""
    iteration = attempt = 0

    def __init__(self):
        self.params = []      # repeatable --param NAME=VALUE, in order
        self.params_b64 = []  # repeatable --param-b64 NAME=BASE64 (runtime_shim.params)


def parse_args(argv):
    """The task CLI (argparse costs several ms per task start; this does not)."""
    a = Args()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if "=" in arg and arg.startswith("--"):
            arg, value = arg.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(argv):
                raise UsageError("option %s needs a value" % arg)
            value = argv[i + 1]
            i += 2
        if arg in ("--param", "--param-b64"):
            (a.params if arg == "--param" else a.params_b64).append(value)
            continue
        if arg not in _OPTIONS:
            raise UsageError("unknown option %s (options: %s --param --param-b64)" % (arg, " ".join(_OPTIONS)))
        setattr(a, _OPTIONS[arg], value)
    for req in ("datastore", "run_id", "step"):
        if not getattr(a, req):
            raise UsageError("--%s is required" % req.replace("_", "-"))
    try:
        a.iteration = int(a.iteration)
        a.attempt = int(a.attempt)
    except ValueError:
        raise UsageError("--iteration and --attempt take integers") from None
    if not a.run_id or a.run_id.strip(_RUN_ID_CHARS):
        raise UsageError("bad --run-id %r: use [A-Za-z0-9._-]+" % a.run_id)
    try:
        a.index_path = [int(x) for x in a.index_path.split(",") if x.strip() != ""]
    except ValueError:
        raise UsageError("bad --index-path %r" % a.index_path) from None
    if a.iteration < 0 or a.attempt < 0 or any(i < 0 for i in a.index_path):
        raise UsageError("negative --iteration/--attempt/--index-path")
    return a


# ------------------------------------------------------------------------------------------
# code package


def _package_root():
    """(zip path or None, directory or None) of the code package holding runtime_shim."""
    loader = globals().get("__loader__")
    archive = getattr(loader, "archive", None)
    if archive:
        return archive, None
    return None, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_spec(path):
    zpath, root = _package_root()
    try:
        if path:
            with open(path, "rb") as f:
                return json.loads(f.read())
        if zpath:
            loader = globals()["__loader__"]
            return json.loads(loader.get_data(os.path.join(zpath, "flowc.json")))
        with open(os.path.join(root, "flowc.json"), "rb") as f:
            return json.loads(f.read())
    except (OSError, KeyError, ValueError) as e:
        raise UsageError("cannot read the runtime spec: %s" % e) from None


def _zip_names(zpath):
    """Member names of the code package from zipimport's directory cache, or None."""
    try:
        import zipimport

        cache = zipimport._zip_directory_cache.get(zpath)
    except AttributeError:
        return None
    if not cache:
        return None
    return [n.replace(os.sep, "/") for n in cache]


def prepare_flow_dir():
    """Extract `flow/` from the code package into a private directory; return its path."""
    zpath, root = _package_root()
    base = os.environ.get("TMPDIR") or "/tmp"
    work = os.path.join(base, "flowc-task-%d-%s" % (os.getpid(), os.urandom(6).hex()))
    os.makedirs(work, mode=0o700)
    if zpath:
        names = _zip_names(zpath)
        if names is not None:
            # zipimport already read the archive's directory: no zipfile import (~8 ms)
            loader = globals()["__loader__"]
            for name in names:
                if name.startswith("flow/") and not name.endswith("/"):
                    dest = os.path.join(work, *name[len("flow/"):].split("/"))
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    with open(dest, "wb") as f:
                        f.write(loader.get_data(os.path.join(zpath, name)))
        else:
            import zipfile

            with zipfile.ZipFile(zpath) as z:
                for info in z.infolist():
                    if info.filename.startswith("flow/") and not info.is_dir():
                        rel = info.filename[len("flow/"):]
                        dest = os.path.join(work, *rel.split("/"))
                        os.makedirs(os.path.dirname(dest), exist_ok=True)
                        with open(dest, "wb") as f:
                            f.write(z.read(info))
    else:
        import shutil

        src = os.path.join(root, "flow")
        if os.path.isdir(src):
            shutil.copytree(src, work, dirs_exist_ok=True)
    return work


def import_flow(spec, flow_dir):
    import importlib.util

    from runtime_shim import api, configs

    api.install()
    configs.register(spec)       # config values for the class body (decorator arguments)
    sys.dont_write_bytecode = True   # the flow's directory is private to this task
    path = os.path.join(flow_dir, spec["flow_file"])
    if not os.path.exists(path):
        raise UsageError("flow file %s is not in the code package" % spec["flow_file"])
    sys.path.insert(0, flow_dir)
    os.chdir(flow_dir)
    modspec = importlib.util.spec_from_file_location("flowc_user_flow", path)
    module = importlib.util.module_from_spec(modspec)
    sys.modules["flowc_user_flow"] = module
    try:
        modspec.loader.exec_module(module)
    except Exception as e:
        from runtime_shim.failure import user_traceback

        sys.stderr.write(user_traceback(e, flow_dir, START_CWD))
        raise UserError("importing the flow failed: %s" % e) from None
    cls = getattr(module, spec["flow_name"], None)
    if not isinstance(cls, type) or not issubclass(cls, api.FlowSpec):
        raise UsageError("no FlowSpec class %s in %s" % (spec["flow_name"], spec["flow_file"]))
    return cls


# ------------------------------------------------------------------------------------------
# parameters

def convert_value(p, raw):
    """runtime_shim.params.convert, with this module's error type."""
    from runtime_shim import params

    try:
        return params.convert(p, raw)
    except params.ParamError as e:
        raise UsageError(str(e)) from None


def resolve_parameters(spec, given: dict, base_dir=None) -> dict:
    """attr -> converted value, for every declared parameter (runtime_shim.params.resolve)."""
    from runtime_shim import params

    try:
        return params.resolve(spec.get("parameters", []), given, base_dir)
    except params.ParamError as e:
        raise UsageError(str(e)) from None


# ------------------------------------------------------------------------------------------
# inputs


class Context:
    """What the flow instance needs from the task: blob loading and step facts."""

    def __init__(self, ds: FlowDatastore, is_join: bool):
        self.ds = ds
        self.is_join = is_join

    def load(self, sha):
        return self.ds.load_artifact(sha)


class Resolver:
    def __init__(self, spec, ds: FlowDatastore, run_id: str):
        self.spec = spec
        self.steps = spec["steps"]
        self.ds = ds
        self.run_id = run_id

    def manifest(self, step, index_path, iteration=0):
        return self.ds.read_manifest(self.run_id, step, task_id_for(index_path, iteration))

    def need(self, step, index_path, iteration=0):
        m = self.manifest(step, index_path, iteration)
        if m is None:
            raise UsageError("input task %s/%s/%s is not complete"
                             % (self.run_id, step, task_id_for(index_path, iteration)))
        return m

    def pred_task(self, pred, index_path):
        """The completed task of step `pred` at index_path (recursive: highest iteration)."""
        if self.steps[pred].get("recursive"):
            k = 0
            found = None
            while True:
                m = self.manifest(pred, index_path, k)
                if m is None:
                    break
                found = m
                k += 1
            return found
        return self.manifest(pred, index_path)

    def led_here(self, pred, manifest, step):
        """Whether the completed task of `pred` went on to `step`. A switch went only to the case
        it chose; any other step to all its `next` (Metaflow 2.19: a conditional skip's target
        is also reached from a case of the switch that skips to it, so both can be complete)."""
        if manifest is None:
            return False
        if self.steps[pred]["kind"] == "switch":
            return manifest.get("branch") == step
        return True

    def arrived(self, step, preds, index_path):
        """(pred, manifest) of every predecessor whose completed task led to `step`."""
        out = []
        for pred in preds:
            m = self.pred_task(pred, index_path)
            if self.led_here(pred, m, step):
                out.append((pred, m))
        return out

    def static_join_inputs(self, step, preds, index_path):
        """One input per branch of the split: the predecessor that ended that branch. With a switch
        inside a branch, only the case that ran has a task (Metaflow's runtime waits for as many
        inputs as the split has branches, whichever steps they come from)."""
        from runtime_shim.graph import branch_positions

        order = branch_positions(self.steps, step)
        split = self.steps[step]["join_of"]
        nbranches = len(self.steps[split]["next"]) if split in self.steps else len(preds)
        by_branch = {}
        for pred, m in self.arrived(step, preds, index_path):
            by_branch.setdefault(order.get(pred, len(order)), []).append((pred, m))
        out = []
        for pos in range(nbranches):
            got = by_branch.get(pos, [])
            if len(got) != 1:
                heads = self.steps[split]["next"] if split in self.steps else preds
                ends = [p for p in preds if order.get(p) == pos] or preds
                if not got:
                    raise UsageError("input task %s/%s is not complete (branch %s of split %s)"
                                     % ("|".join(ends), task_id_for(index_path), heads[pos], split))
                raise UsageError("join %s: branch %s of split %s ended in %d tasks (%s)"
                                 % (step, heads[pos], split, len(got), ", ".join(p for p, _ in got)))
            out.append(got[0])
        return out

    def inputs_for(self, step, index_path, iteration):
        """Returns (kind, data): ('start', None) | ('linear', (manifest, stack)) |
        ('join', [(step, manifest), ...])."""
        s = self.steps[step]
        if iteration > 0:
            return "linear", (self.need(step, index_path, iteration - 1), None)
        preds = [p for p in s.get("in", []) if p != step]
        if not preds:
            return "start", None
        if s["kind"] == "join":
            split = s["join_of"]
            skind = self.steps[split]["kind"] if split in self.steps else "split"
            if skind in ("foreach", "parallel"):
                m = self.pred_task(split, index_path)
                if m is None:
                    raise UsageError("split task %s at %s is not complete" % (split, index_path))
                n = int(m.get("num_splits") or 0)
                out = []
                for i in range(n):
                    # several predecessors: the cases of a switch inside the body converge here
                    got = self.arrived(step, preds, index_path + [i])
                    if not got:
                        raise UsageError("input task %s/%s is not complete"
                                         % ("|".join(preds), task_id_for(index_path + [i])))
                    if len(got) > 1:
                        raise UsageError("join %s: item %d ended in %d tasks (%s)"
                                         % (step, i, len(got), ", ".join(p for p, _ in got)))
                    out.append(got[0])
                return "join", out
            return "join", self.static_join_inputs(step, preds, index_path)
        depth = s.get("depth", 0)
        if len(preds) == 1:
            pred = preds[0]
            ps = self.steps[pred]
            if ps["kind"] in ("foreach", "parallel") and ps.get("depth", 0) == depth - 1:
                if not index_path:
                    raise UsageError("step %s is in a foreach body: --index-path is required"
                                     % step)
                sm = self.pred_task(pred, index_path[:-1])
                if sm is None:
                    raise UsageError("split task %s/%s is not complete"
                                     % (pred, task_id_for(index_path[:-1])))
                i = index_path[-1]
                n = int(sm.get("num_splits") or 0)
                if i >= n:
                    raise UsageError("index %d out of range: %s has %d splits" % (i, pred, n))
                if ps["kind"] == "foreach":
                    var = ps.get("foreach_var") or sm.get("foreach_var")
                    items = self.ds.load_artifact(sm["artifacts"][var]["sha"])
                    value = list(items)[i] if not hasattr(items, "__getitem__") else items[i]
                else:
                    value = None
                parent = self.ds.load_artifact(sm["artifacts"]["_foreach_stack"]["sha"]) \
                    if "_foreach_stack" in sm["artifacts"] else []
                return "linear", (sm, list(parent) + [(i, n, value)])
            m = self.pred_task(pred, index_path)
            if m is None:
                raise UsageError("input task %s/%s is not complete"
                                 % (pred, task_id_for(index_path)))
            return "linear", (m, None)
        # a step where a switch's cases converge, or a conditional skip's target: the one
        # predecessor whose task went on to this step
        found = self.arrived(step, preds, index_path)
        if len(found) != 1:
            raise UsageError("step %s: expected exactly one completed predecessor that leads here "
                             "among %s, found %d" % (step, ", ".join(preds), len(found)))
        return "linear", (found[0][1], None)


# ------------------------------------------------------------------------------------------
# the task


class _Timeout(BaseException):
    pass


def run_step(func, seconds, *args):
    """Call the step; raise api.TimeoutException if it runs longer than `seconds`."""
    if not seconds:
        return func(*args)
    import signal

    from runtime_shim.api import TimeoutException

    def on_alarm(signum, frame):
        raise TimeoutException("Step %s timed out after %s seconds" % (func.__name__, seconds))

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        return func(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def write_outputs(out_dir, values):
    if not out_dir:
        return
    os.makedirs(out_dir, exist_ok=True)
    for name, value in values.items():
        if value is None:
            continue
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(str(value))


def _username():
    for k in ("FLOWC_USER", "METAFLOW_USER", "USER", "USERNAME"):
        if os.environ.get(k):
            return os.environ[k]
    return "unknown"


_CLEANUP: list = []


def _remove_tree(path):
    """Remove the task's private directory (shutil would cost an import on every task)."""
    if os.environ.get("FLOWC_KEEP_TASK_DIR") == "1":
        return
    try:
        os.chdir("/")
        for dirpath, dirs, files in os.walk(path, topdown=False):
            for f in files:
                os.unlink(os.path.join(dirpath, f))
            for d in dirs:
                full = os.path.join(dirpath, d)
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    os.rmdir(full)
        os.rmdir(path)
    except OSError:
        pass


def main(argv) -> int:
    try:
        return _main(argv)
    finally:
        api = sys.modules.get("runtime_shim.api")
        for path in _CLEANUP + list(getattr(api, "_CREATED_DIRS", [])):
            _remove_tree(path)


def _main(argv) -> int:
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a TextIOWrapper here
        sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        pass
    try:
        a = parse_args(argv)
        from runtime_shim.attempt import execute  # the attempt's phases (imports this module)

        return execute(a)
    except UsageError as e:
        log("error: %s" % e)
        return EXIT_USAGE
    except UserError as e:
        log("error: %s" % e)
        return EXIT_USER
    except DatastoreError as e:
        log("datastore error: %s" % e)
        return EXIT_RUNTIME
    except Exception as e:  # noqa: BLE001 - anything else is a runtime bug or I/O failure
        import traceback

        traceback.print_exc()
        log("runtime error: %s: %s" % (type(e).__name__, e))
        return EXIT_RUNTIME
