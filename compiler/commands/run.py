"""`flowc run FLOW [--param k=v ...] [--with batch|kubernetes[:k=v,...]]`: run a flow with flowc's
runtime; steps without a compute decorator run locally, @batch / @kubernetes steps (every step,
with `--with batch` / `--with kubernetes`) on that backend (compiler.runner.hybrid)."""
from __future__ import annotations

import sys

import click

from compiler.commands.flow_options import FlowCommand, take_parameter_values
from compiler.settings import SPEC_BY_NAME


def _setting_options(command):
    from compiler.commands.config_flags import config_options
    from compiler.runner.hybrid import RUN_SETTINGS

    for name in reversed(RUN_SETTINGS):
        spec = SPEC_BY_NAME[name]
        command = click.option(spec.flag, spec.name, default=None,
                               help=f"{spec.help} [env {spec.env_var}]")(command)
    return config_options(command)


@click.command("run", cls=FlowCommand)   # + the flow's --NAME options (commands/flow_options.py)
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter value (repeatable). IncludeFile: a path, read here.")
@click.option("--max-workers", type=click.IntRange(1, 1024), default=None,
              help="How many tasks run at once (default: 2 x CPUs, at most 16).")
@click.option("--datastore", default=None, metavar="URI",
              help="file:///abs/path or s3://bucket/prefix (default: $FLOWC_DATASTORE, else "
                   "the nearest .flowc from the current directory up). Remote steps need s3://.")
@click.option("--run-id", default=None, help="The run id (default: a timestamp).")
@click.option("--package-include", multiple=True, metavar="GLOB",
              help="Extra files (globs relative to the flow's directory) for the code package.")
@click.option("--with", "with_options", multiple=True, metavar="DECO[:k=v,...]",
              help="Attach a decorator to every step without one: batch[:queue=q,...] or "
                   "kubernetes[:cpu=2,...] runs every step there.")
@click.option("--event-payload", default=None, metavar="JSON",
              help="An @trigger event's payload: fills the parameters the flow maps from it.")
@click.option("--tag", "tags", multiple=True, help="Tag the run (repeatable); see Flow.runs(tag).")
@click.option("--quiet", is_flag=True, help="Print only failed tasks' output and the final status.")
@click.option("--json-events", is_flag=True,
              help="Print one JSON event per line on stdout (schema: README, flowc run events).")
@click.option("--preload", default="", metavar="MODULE[,MODULE...]",
              help="Modules the fork server imports once before forking tasks (e.g. numpy,pandas); "
                   "opt-in: a module that starts threads at import turns forking off.")
@click.option("--spawn", is_flag=True, help="Start each task as a new Python process instead of "
                                           "forking it from a warm fork server.")
@_setting_options
def run(flow, flow_name, params, max_workers, datastore, run_id, package_include, with_options, tags,
        quiet, json_events, preload, spawn, event_payload=None, **setting_flags):
    """Run FLOW: local steps as `python -m runtime_shim task` from the code package, @batch and
    @kubernetes steps as AWS Batch jobs / Kubernetes Jobs running the same command."""
    from compiler.runner.hybrid import run_hybrid

    params = take_parameter_values(setting_flags) + tuple(params)   # --NAME VALUE, then --param
    if event_payload is not None:   # compiler/runner/event_payload.py
        from compiler.runner.event_payload import from_command_line
        params = from_command_line(flow, flow_name, event_payload, datastore) + tuple(params)
    if tags:
        run_id = _tagged_run_id(flow, flow_name, datastore, run_id, tags)

    if quiet and json_events:
        raise click.UsageError("--quiet and --json-events exclude each other")
    try:
        code = run_hybrid(flow, flow_name=flow_name, params=params, max_workers=max_workers,
                          datastore=datastore, run_id=run_id, package_include=package_include,
                          with_options=with_options, setting_flags=setting_flags,
                          mode="spawn" if spawn else "auto",
                          preload=tuple(m.strip() for m in preload.split(",") if m.strip()),
                          output="json" if json_events else "quiet" if quiet else "text")
    except KeyboardInterrupt:       # Ctrl-C before any task started: one line, no traceback
        click.echo("flowc: interrupted", err=True)
        code = 130
    sys.exit(code)


def _tagged_run_id(flow, flow_name, datastore, run_id, tags):
    """Name the run now and store its tags (run options, read by the client) before it starts. An
    id already taken is left to the runner, which refuses it."""
    import os

    from compiler.commands._runs import flow_name_of
    from compiler.runner import RunError, default_datastore, new_run_id, normalize_datastore
    from runtime_shim.datastore import DatastoreError, FlowDatastore

    if not os.path.isfile(flow):
        return run_id
    try:
        root = normalize_datastore(datastore or default_datastore(flow))
        ds = FlowDatastore(root, flow_name or flow_name_of(flow))
        run_id = run_id or new_run_id()
        if not ds.list_steps(run_id):
            ds.write_run_options(run_id, {"tags": sorted(set(tags))})
    except (RunError, DatastoreError):
        pass        # the runner reports the bad datastore
    return run_id
