"""`flowc runs`, `flowc terminate`, `flowc suspend` / `unsuspend` (Argo): a flow's runs, local
(from the datastore) or deployed (from the engine), and stopping or pausing a deployed one."""
from __future__ import annotations

import time

import click

from compiler.commands.compile import TARGET as TARGETS
from compiler.commands.compile import canonical_target, settings_from, settings_options


def _when(ts) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts else "-"


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    return "%dh%02dm%02ds" % (seconds // 3600, seconds // 60 % 60, seconds % 60) if seconds >= 3600 else \
        "%dm%02ds" % (seconds // 60, seconds % 60) if seconds >= 60 else "%ds" % seconds


# what these commands read: where the runs are (local datastore) or the deployed workflow's name
DEPLOYED_SETTINGS = ("k8s_namespace", "aws_region", "branch", "production")
LISTING_SETTINGS = ("datastore", "s3_endpoint", *DEPLOYED_SETTINGS)


@click.command("runs")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=TARGETS, default=None, callback=canonical_target,
              help="List a deployed flow's runs (default: local runs in the datastore).")
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--tag", "tags", multiple=True, help="Local: only runs with this tag (repeatable).")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="At most this many runs.")
@settings_options(only=LISTING_SETTINGS)
def runs(flow, target, flow_name, tags, limit, **flags):
    """List FLOW's runs, newest first: id, state, start (UTC) and duration. FLOW is a flow file
    (or, locally, a flow name)."""
    from compiler.commands._runs import fail

    rows = []
    if target:
        from compiler.commands.deploy import _planned, _workflow_name
        from compiler.deploy import DeployError
        from compiler.deploy import runs as deploy_runs

        settings = settings_from(flow, flags)
        plan = _planned(flow, target, flow_name, settings)
        try:
            infos = deploy_runs.list_runs(target, _workflow_name(target, plan), settings)
        except DeployError as error:
            fail(str(error))
        rows = [(r.run_id, r.state, r.started, r.duration, "") for r in infos]
    else:
        from compiler.commands._runs import datastore_root, flow_name_of
        from runtime_shim.client import Flow

        name = flow_name or flow_name_of(flow)
        found = Flow(name, datastore=datastore_root(flags.get("datastore"))).runs(*tags)
        found.sort(key=lambda r: (r.started_at or 0, r.id), reverse=True)
        for r in found[:limit]:
            started = r.started_at
            end = r.end_task.manifest.get("finished_at") if r.successful else r.last_activity()
            note = "resumed from %s" % r.origin_run_id if r.origin_run_id else ""
            if r.tags:
                note = (note + "  " if note else "") + "tags: " + ",".join(sorted(r.tags))
            rows.append((r.id, r.state, started, (end - started) if started and end else None, note))
    if not rows:
        click.echo("no runs", err=True)
        return
    width = max(len(r[0]) for r in rows[:limit])
    for run_id, state, started, duration, note in rows[:limit]:
        click.echo(f"{run_id:<{width}}  {state:<10}  {_when(started)}  {_duration(duration):>8}"
                   + (f"  {note}" if note else ""))


def _deployed_action(flow, target, flow_name, flags, action):
    from compiler.commands.deploy import _fail, _planned, _workflow_name
    from compiler.deploy import DeployError

    settings = settings_from(flow, flags)
    plan = _planned(flow, target, flow_name, settings)
    try:
        click.echo(action(_workflow_name(target, plan), settings))
    except DeployError as error:
        _fail(error)


def _on_a_deployed_run(name: str):
    """`flowc NAME FLOW RUN --target T`: the arguments and options of a command on one deployed run."""
    decorators = (click.command(name), click.argument("flow", type=click.Path(dir_okay=False)),
                  click.argument("run"),
                  click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target,
                               help="The workflow engine the flow is deployed on."),
                  click.option("--flow", "flow_name", default=None,
                               help="The flow class, when the file holds several."),
                  settings_options(only=DEPLOYED_SETTINGS))

    def decorate(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function
    return decorate


@_on_a_deployed_run("terminate")
def terminate(flow, run, target, flow_name, **flags):
    """Stop a deployed run: Step Functions StopExecution and its Batch jobs; Argo stops the workflow."""
    from compiler.deploy import runs as r

    _deployed_action(flow, target, flow_name, flags, lambda wf, st: "%s: %s" % (run, r.terminate(target, wf, st, run)))


def _suspendable(target) -> None:
    from compiler.commands._runs import fail
    from compiler.deploy import runs as r

    if not r.can_suspend(target):
        fail(r.NO_SUSPEND, 2)


@_on_a_deployed_run("suspend")
def suspend(flow, run, target, flow_name, **flags):
    """Pause a running Argo workflow: no new pods start until `flowc unsuspend`."""
    from compiler.deploy import runs as r

    _suspendable(target)
    _deployed_action(flow, target, flow_name, flags, lambda wf, st: "%s: %s" % (run, r.suspend(target, st, run, True)))


@_on_a_deployed_run("unsuspend")
def unsuspend(flow, run, target, flow_name, **flags):
    """Let a suspended Argo workflow go on (Argo's `resume`; flowc's `resume` re-runs a failed run)."""
    from compiler.deploy import runs as r

    _suspendable(target)
    _deployed_action(flow, target, flow_name, flags, lambda wf, st: "%s: %s" % (run, r.suspend(target, st, run, False)))
