"""`flowc resume FLOW [RUN_ID] [--step STEP] [--target argo|stepfunctions]`: a new run that clones
the successful tasks of an earlier (failed) run and runs the rest again: from its failed steps, or
from --step. Locally by default; with --target, a new execution of the deployed workflow. The
decision is the runtime's, per task (runtime_shim/resume.py), so every engine resumes alike."""
from __future__ import annotations

import sys

import click

from compiler.commands.compile import TARGET as TARGETS
from compiler.commands.compile import canonical_target, settings_from, settings_options


def resume_options(spec: dict, origin, step: str | None, tags=()) -> dict:
    """The run options of the resumed run: its origin and the steps to run again."""
    from compiler.commands._runs import fail

    if step is not None:
        if step not in spec["steps"]:
            fail(f"flow {spec['flow_name']} has no step {step!r} (its steps: {', '.join(spec['steps'])})")
        roots = [step]
    else:
        roots = sorted({t.step_name for t in origin.failed_tasks()} & set(spec["steps"]))
        if not roots and origin.successful:
            fail(f"run {origin.pathspec} succeeded: name the step to run again with --step")
    return {"origin_run_id": origin.id, "rerun": roots, "tags": sorted(set(tags))}


@click.command("resume")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.argument("run_id", required=False)
@click.option("--step", default=None, help="Run again from this step (default: the origin's failed steps).")
@click.option("--target", "-t", type=TARGETS, default=None, callback=canonical_target,
              help="Resume on a deployed engine (default: a local run).")
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--tag", "tags", multiple=True, help="Tag the new run (repeatable).")
@settings_options
def resume(flow, run_id, step, target, flow_name, tags, **flags):
    """Resume RUN_ID of FLOW (default: its latest run that did not succeed) as a new run."""
    from compiler.commands._runs import datastore_root, fail, latest_run, spec_of
    from runtime_shim.client import Run

    spec = spec_of(flow, flow_name)
    settings = settings_from(flow, flags) if target else None
    root = str(getattr(settings, "datastore", None) or "") if target else datastore_root(flags.get("datastore"))
    if target and not root:
        fail("a deployed resume reads the origin run from the datastore: set --datastore or FLOWC_DATASTORE", 2)
    if run_id is None:
        origin = latest_run(spec["flow_name"], root, failed_only=True)
        if origin is None:
            fail(f"every run of {spec['flow_name']} in {root} succeeded (or there is none): name the run "
                 "to resume and the step to run again with --step")
    else:
        origin = Run(f"{spec['flow_name']}/{run_id}", datastore=root)
        if not origin._ds.list_steps(run_id):
            fail(f"no run {spec['flow_name']}/{run_id} in {root}")
    options = resume_options(spec, origin, step, tags)
    click.echo(f"flowc: resuming {origin.pathspec}: cloning what succeeded, running "
               f"{', '.join(options['rerun']) or 'what did not'} and what follows", err=True)
    if target:
        _resume_deployed(flow, target, flow_name, spec, options, settings)
        return
    from compiler.runner import new_run_id, run_flow

    new_id = new_run_id()
    origin._ds.write_run_options(new_id, options)
    sys.exit(run_flow(flow, flow_name=flow_name, spec=spec, run_id=new_id, datastore=root,
                      max_workers=int(flags["max_workers"]) if flags.get("max_workers") else None))


def _resume_deployed(flow, target, flow_name, spec, options, settings) -> None:
    from compiler.commands.deploy import _fail, _planned, _workflow_name
    from compiler.deploy import DeployError
    from compiler.deploy import runs as deploy_runs

    plan = _planned(flow, target, flow_name, settings)
    try:
        run = deploy_runs.start_run(target, _workflow_name(target, plan), spec["flow_name"], {}, settings, options)
    except DeployError as error:
        _fail(error)
    click.echo(run)
