"""What `flowc show`, `logs`, `resume` and `runs` share: the datastore root, and turning a flow
file or a pathspec into the runs and tasks it names (runtime_shim.client over the datastore)."""
from __future__ import annotations

import os
import sys

import click

DATASTORE_HELP = "Datastore root (default: $FLOWC_DATASTORE, else the nearest .flowc from here up)."


def fail(message: str, code: int = 1):
    click.echo(f"flowc: error: {message}", err=True)
    sys.exit(code)


def datastore_root(datastore: str | None) -> str:
    from compiler.runner import default_datastore

    root = datastore or default_datastore()
    if not (root.startswith("file://") or root.startswith("s3://")):
        root = "file://" + os.path.abspath(root)
    return root


def flow_name_of(flow: str) -> str:
    """A flow file's FlowSpec class name (read with the front end), or FLOW itself as a name."""
    if not (flow.endswith(".py") or os.sep in flow) or not os.path.isfile(flow):
        return flow
    spec = spec_of(flow)
    return spec["flow_name"]


def spec_of(flow: str, flow_name: str | None = None) -> dict:
    from compiler.commands._common import emit_diagnostics, require_file
    from compiler.runtime_spec import spec_for_file

    require_file(flow)
    spec, diagnostics = spec_for_file(flow, flow_name)
    if diagnostics:
        emit_diagnostics(diagnostics)
    if spec is None or any(getattr(d, "is_error", False) for d in diagnostics):
        sys.exit(1)
    return spec


def latest_run(flow_name: str, root: str, *, failed_only: bool = False):
    """The newest run of the flow (by its start time), or None; `failed_only`: the newest that did
    not succeed (failed, or stopped before its end: killed, interrupted)."""
    from runtime_shim.client import Flow

    runs = Flow(flow_name, datastore=root).runs()
    runs.sort(key=lambda r: (r.started_at or 0, r.id), reverse=True)
    for r in runs:
        if not failed_only or not r.successful:
            return r
    return None


def resolve_run(parts: list[str], root: str):
    """The Run named by Flow/run_id, or by Flow alone (its latest run); exit 1 when none."""
    from runtime_shim.client import Run

    if len(parts) == 1:
        run = latest_run(parts[0], root)
        if run is None:
            fail(f"no runs of {parts[0]} in {root}")
        return run
    run = Run("/".join(parts[:2]), datastore=root)
    if not run._ds.list_steps(run.id):
        fail(f"no run {'/'.join(parts[:2])} in {root}")
    return run


def resolve_step(run, step: str):
    from runtime_shim.client import Step

    steps = run._ds.list_steps(run.id)
    if step not in steps:
        fail(f"run {run.pathspec} has no step {step!r} (its steps: {', '.join(steps) or 'none'})")
    return Step(f"{run.pathspec}/{step}", _ds=run._ds)


def first_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""
