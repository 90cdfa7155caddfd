"""`flowc run`: run a whole flow locally with the same runtime and code package as the targets.

prepare_run() checks everything (spec, parameters, IncludeFile files) before any task starts;
run_flow() builds the code package and runs the tasks (compiler.runner.local).
"""
from __future__ import annotations

import json
import os
import sys
import time

# Files beside the flow that go into the package by default (non-recursive, not hidden, small):
# flows read local data files from their own directory (e.g. `open("US.data")`).


class RunError(Exception):
    """A problem found before any task starts: the user's input (exit 2), or with `exit_code=1`
    the environment (a datastore that cannot be reached, no credentials)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def spec_for(flow_path: str, flow_name: str | None = None):
    """(spec, diagnostics) from the front end and lowering: the same spec every target uses."""
    from compiler.frontend.cache import default_cache
    from compiler.runtime_spec import spec_for_file

    return spec_for_file(flow_path, flow_name, cache=default_cache())


def default_datastore(flow_path: str | None = None) -> str:
    """$FLOWC_DATASTORE, else the nearest `.flowc` from the current directory up (as Metaflow
    finds `.metaflow`), so `flowc run` and `flowc show` agree wherever the flow file lives."""
    from runtime_shim.client import local_datastore

    return os.environ.get("FLOWC_DATASTORE") or local_datastore()


def normalize_datastore(uri: str) -> str:
    if uri.startswith("s3://") or uri.startswith("file://"):
        if uri.startswith("file://") and not uri[len("file://"):].startswith("/"):
            return "file://" + os.path.abspath(uri[len("file://"):])
        return uri
    if "://" in uri:
        raise RunError("unsupported datastore %r (use file:///abs/path or s3://bucket/prefix)"
                       % uri)
    return "file://" + os.path.abspath(uri)


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()


def parse_params(pairs) -> dict:
    from runtime_shim import params

    out = {}
    for pair in pairs or ():
        try:
            k, v = params.split_assignment(pair)
        except params.ParamError as e:
            raise RunError(str(e)) from None
        out[k] = v
    return out


def resolve_run_params(spec: dict, given: dict, flow_dir: str) -> dict:
    """Validate parameters like the start task will (runtime_shim.params, the task's own code),
    and turn IncludeFile values into contents.

    Returns the raw values to pass to the start task (strings; IncludeFile: the file's content).
    """
    from runtime_shim import params

    declared = spec.get("parameters", [])
    given = params.canonical_names(declared, given)
    out = dict(given)
    try:
        for p in declared:
            if p.get("kind") != "include_file":
                continue
            if given.get(p["name"]) is not None:        # a path given by the user: from the cwd
                out[p["name"]] = params.read_include(p, given[p["name"]])
            elif p.get("has_default") and p.get("default") is not None:
                out[p["name"]] = params.read_include(p, p["default"], flow_dir)
        # dry run of the conversion (include files are content here, not paths)
        check = [dict(p, has_default=False, default=None) if p.get("kind") == "include_file" and p["name"] in out
                 else p for p in declared]
        params.resolve(check, out, flow_dir)
    except params.ParamError as e:
        raise RunError(str(e)) from None
    return out


def build_run_package(flow_path: str, spec: dict, package_include=(), echo=None):
    """The run's code package, by the one rule compile and deploy use (codepackage.package_contents),
    so a local task sees exactly the files a pod or Batch job sees. Its notes are printed as warnings."""
    from compiler import codepackage

    spec_bytes = json.dumps(spec, sort_keys=True, indent=1, default=repr).encode()
    package, notes = codepackage.package_for_spec(flow_path, spec, spec_bytes, tuple(package_include or ()))
    for note in notes:
        if echo is not None:
            echo("%s:%d:%d: %s [warning] %s" % (note.path, note.line, note.col, note.code, note.message))
    return package


def run_flow(flow_path: str, *, flow_name=None, params=(), max_workers=None, datastore=None,
             run_id=None, package_include=(), stream=None, tty=None, echo=None, spec=None,
             mode="auto", preload=(), output="text") -> int:
    """Run a flow locally. Returns the exit code (0 ok, 1 failed or diagnostics, 2 bad input,
    130 / 143 stopped by SIGINT / SIGTERM, 141 output closed).
    `spec`: the runtime spec when the caller already analysed the flow (not analysed again).
    `mode`: auto (fork tasks from a warm server where safe), fork, or spawn; `preload`: modules the
    fork server imports first; `output`: text, quiet or json (compiler.runner.progress)."""
    echo = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if not os.path.isfile(flow_path):
        echo("flowc: error: cannot read %s: no such file" % flow_path)
        return 2
    flow_path = os.path.abspath(flow_path)
    flow_dir = os.path.dirname(flow_path)
    try:
        if spec is None:
            spec, diagnostics = spec_for(flow_path, flow_name)
            if diagnostics:
                _print_diagnostics(diagnostics, echo)
            if spec is None or any(getattr(d, "is_error", False) for d in diagnostics):
                return 1
        raw = resolve_run_params(spec, parse_params(params), flow_dir)
        root = normalize_datastore(datastore or default_datastore(flow_path))
        ds, run_id = claim_run(root, spec["flow_name"], run_id)
    except RunError as e:
        echo("flowc: error: %s" % e)
        return e.exit_code
    pkg = build_run_package(flow_path, spec, package_include, echo)
    key = ds.save_code(pkg.data, pkg.sha256)
    if root.startswith("file://"):
        zip_path = os.path.join(root[len("file://"):], *key.split("/"))
    else:
        zip_path = cached_package(pkg)
    echo("flowc: running %s/%s (datastore %s, package %s)"
         % (spec["flow_name"], run_id, root, pkg.sha256[:12]))
    return drive(spec, zip_path, pkg.sha256, root, ds, run_id, raw, echo, stream,
                 dict(max_workers=max_workers, cwd=flow_dir, stream=stream, tty=tty, mode=mode,
                      preload=preload, output=output))


def claim_run(root: str, flow_name: str, run_id):
    """(FlowDatastore, run id): the id validated and claimed atomically (compiler.runner.runids)."""
    from compiler.runner import runids
    from runtime_shim.datastore import DatastoreError, FlowDatastore

    try:
        if run_id is not None:
            runids.validate(run_id)
        ds = FlowDatastore(root, flow_name)
        run_id = run_id or new_run_id()
        runids.claim(ds, run_id)
    except runids.RunIdError as e:
        raise RunError(str(e)) from None
    except DatastoreError as e:
        raise RunError(str(e), exit_code=1) from None
    return ds, run_id


def cached_package(pkg) -> str:
    """The package as a file in the temp dir (a remote datastore's local copy)."""
    import tempfile

    zip_path = os.path.join(tempfile.gettempdir(), "flowc-code-%s.zip" % pkg.sha256)
    if not os.path.exists(zip_path):
        tmp = zip_path + ".tmp-%d" % os.getpid()
        with open(tmp, "wb") as f:
            f.write(pkg.data)
        os.replace(tmp, zip_path)
    return zip_path


def private_package(zip_path: str, sha256: str) -> str:
    """A private copy of the code package, checked against its sha256 (FC532 if it differs):
    tasks import this copy, so the package they run is the one that was checked."""
    import hashlib
    import tempfile

    try:
        with open(zip_path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RunError("FC532 cannot read the code package %s: %s" % (zip_path, e)) from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise RunError("FC532 the code package %s has sha256 %s, not %s: it was changed after it "
                       "was stored; refusing to run it (`flowc explain FC532`)" % (zip_path, got, sha256))
    fd, path = tempfile.mkstemp(prefix="flowc-pkg-%s-" % sha256[:12], suffix=".zip")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def drive(spec, zip_path, sha256, root, ds, run_id, raw, echo, stream, runner_options) -> int:
    """Check the package, run every task (compiler.runner.local), and report: the end line,
    the run id on `stream`, and, when stopped, the aborted mark in the datastore."""
    from compiler.runner import local, runids

    try:
        private = private_package(zip_path, sha256)
    except RunError as e:
        echo("flowc: error: %s" % e)
        return e.exit_code
    runner = local.LocalRunner(spec, private, root, run_id, raw, **runner_options)
    t0 = time.monotonic()
    try:
        ok = runner.run()
    finally:
        os.unlink(private)
    flow = spec["flow_name"]
    if runner.abort:
        try:
            runids.mark_aborted(ds, run_id, runner.abort)
        except Exception as e:  # noqa: BLE001 - the datastore may be what failed; say so
            echo("flowc: cannot mark %s/%s aborted: %s" % (flow, run_id, e))
        runner.progress.close("aborted", run_id, flow)
        echo("flowc: run %s/%s aborted (%s) after %.1fs; its tasks were stopped"
             % (flow, run_id, runner.abort, time.monotonic() - t0))
        return local.ABORT_CODES.get(runner.abort, 1)
    runner.progress.close("succeeded" if ok else "failed", run_id, flow)
    echo("flowc: run %s/%s %s in %.1fs" % (flow, run_id, "succeeded" if ok else "FAILED",
                                            time.monotonic() - t0))
    if runner.progress.mode != "json" and not runner.progress.broken:
        try:
            print(run_id, file=stream or sys.stdout, flush=True)
        except (OSError, ValueError):
            pass
    return 0 if ok else 1


def _print_diagnostics(diagnostics, echo):
    try:
        from compiler.diagnostics import render

        echo(render.render(diagnostics, "text").rstrip("\n"))
        return
    except Exception:  # noqa: BLE001 - fall back to a plain line per diagnostic
        pass
    for d in diagnostics:
        span = getattr(d, "span", None)
        line, col = (span.line, span.col) if span else (1, 1)
        echo("%s:%d:%d: %s %s" % (getattr(d, "path", ""), line, col, d.code, d.message))
