"""`flowc deploy`, `flowc trigger`, `flowc status`: from a flow file to a running workflow."""
from __future__ import annotations

import sys

import click

from compiler.commands.compile import TARGET as TARGETS
from compiler.commands.compile import canonical_target, settings_from, settings_options
from compiler.targets import spec as target_spec


def _compiled(flow, target, flow_name, with_options, settings):
    from compiler.commands._common import emit_diagnostics, exit_code_for, require_file
    from compiler.pipeline import compile_file

    require_file(flow)
    result = compile_file(flow, target, flow_name=flow_name, settings=settings, with_options=tuple(with_options),
                          target_options=_backend(target).target_options(settings))
    emit_diagnostics(result.diagnostics)
    if not result.ok:
        sys.exit(exit_code_for(result.diagnostics))
    return result


def _backend(target):
    """The target's deployer module (compiler/deploy/<target>.py, named in the registry)."""
    return target_spec(target).deployer_module()


def _fail(error) -> None:
    click.echo(f"flowc: error: {error}", err=True)
    sys.exit(1)


@click.command("deploy")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target)
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--with", "with_options", multiple=True, metavar="DECO[:k=v,...]")
@click.option("--dry-run", is_flag=True, help="Print what would be done and change nothing.")
@click.option("--skip-preflight", is_flag=True,
              help="Do not check that every step's request fits the Batch queue or Kubernetes nodes.")
@settings_options
def deploy(flow, target, flow_name, with_options, dry_run, skip_preflight, **flags):
    """Upload the code package, register job definitions, then create or update the workflow."""
    from compiler.deploy import DeployError, execute

    settings = settings_from(flow, flags)
    result = _compiled(flow, target, flow_name, with_options, settings)
    if not skip_preflight:
        _preflight(result.plan, target, settings)
    try:
        plan = _backend(target).build_plan(result.plan.flow_name, result.files, result.package, settings)
        if dry_run:
            click.echo("\n".join(plan.describe()))
            return
        execute(plan, lambda line: click.echo(line, err=True))
    except DeployError as error:
        _fail(error)
    click.echo(f"deployed {result.plan.flow_name} to {target}")


def _preflight(plan, target, settings) -> None:
    """Refuse, before anything changes, a step whose request no machine of its backend can meet."""
    from compiler.preflight import preflight

    try:
        result = preflight(plan, settings, default_backend=target_spec(target).default_backend or None)
    except Exception as error:  # no cluster or AWS access to ask: say so, do not guess
        click.echo(f"flowc: warning: preflight skipped: {error}", err=True)
        return
    for warning in result.warnings:
        click.echo(f"flowc: warning: preflight: {warning}", err=True)
    if result.errors:
        for problem in result.errors:
            click.echo(f"flowc: error: preflight: {problem}", err=True)
        click.echo("nothing was changed; use --skip-preflight to deploy anyway", err=True)
        sys.exit(1)


def _checked_params(plan, assignments):
    from compiler.params import ParamError, check, normalize, parse_assignments

    try:
        given = parse_assignments(assignments)
    except ParamError as error:
        raise click.UsageError(str(error)) from None
    problems = check(plan.parameters, given)
    if problems:
        for problem in problems:
            click.echo(f"flowc: error: {problem}", err=True)
        sys.exit(2)
    return normalize(plan.parameters, given)


def _workflow_name(target, result):
    return _backend(target).workflow_name(result.files)


@click.command("trigger")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target)
@click.option("--flow", "flow_name", default=None)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A flow parameter; repeat for more.")
@click.option("--run-id", default=None, help="Name the run (default: the engine names it).")
@click.option("--tag", "tags", multiple=True, help="Tag the run (repeatable); see Flow.runs(tag).")
@settings_options
def trigger(flow, target, flow_name, params, run_id, tags, **flags):
    """Start a run of a deployed flow and print its id."""
    from compiler.deploy import DeployError

    settings = settings_from(flow, flags)
    result = _compiled(flow, target, flow_name, (), settings)
    values = _checked_params(result.plan, params)
    try:
        if tags:   # the tags go into the datastore before the run starts (compiler/deploy/runs.py)
            from compiler.deploy import runs as deploy_runs

            run = deploy_runs.start_run(target, _workflow_name(target, result), result.plan.flow_name, values, settings,
                            {"tags": sorted(set(tags))}, run_id)
        else:
            run = _backend(target).trigger(_workflow_name(target, result), values, settings, run_id)
    except DeployError as error:
        _fail(error)
    click.echo(run)


@click.command("status")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.argument("run", required=False)
@click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target)
@click.option("--flow", "flow_name", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@settings_options
def status(flow, run, target, flow_name, as_json, **flags):
    """Show a run's state per step (the latest run when RUN is not given)."""
    import json

    from compiler.deploy import DeployError

    settings = settings_from(flow, flags)
    result = _compiled(flow, target, flow_name, (), settings)
    from compiler.deploy import runs as deploy_runs

    try:
        state = _backend(target).status(_workflow_name(target, result), settings, run)
    except DeployError as error:
        _fail(error)
    except Exception as error:  # an unknown run id: one clear line, no engine traceback
        if run is None or not deploy_runs.missing_run(error):
            raise
        _fail(f"no run {run} of {_workflow_name(target, result)} on {target}")
    if as_json:
        click.echo(json.dumps(state, indent=2, sort_keys=True))
        return
    click.echo(f"run {state['run_id']}: {state['status']}")
    for step, counts in state["steps"].items():
        click.echo(f"  {step:<30} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
