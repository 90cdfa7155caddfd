"""`flowc deploy`, `flowc trigger`, `flowc status`: from a flow file to a running workflow."""
from __future__ import annotations

import sys

import click

from compiler.commands.compile import TARGET as TARGETS
from compiler.commands.compile import canonical_target, settings_from, settings_options
from compiler.targets import names as target_names
from compiler.targets import spec as target_spec

TARGET_HELP = "The workflow engine: " + ", ".join(target_names()) + "."
FLOW_HELP = "The flow class, when the file holds several."
WITH_HELP = "Attach a decorator to every step without one, e.g. kubernetes:cpu=2 or batch:queue=q."
# What trigger and status read: the workflow's name (@project branch) and where to reach it.
TRIGGER_SETTINGS = ("k8s_namespace", "aws_region", "branch", "production",
                    # trigger --event publishes where the flow's Sensor / rules listen
                    "argo_events_webhook_url", "eventbridge_bus", "eventbridge_source")


def _compiled(flow, target, flow_name, with_options, settings, connect: bool = True):
    from compiler.commands._common import emit_diagnostics, exit_code_for, require_file
    from compiler.pipeline import compile_file

    require_file(flow)
    _require_settings(target, settings, connect)
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
    from compiler.commands.errors import with_fix

    message = with_fix(str(error), error) if isinstance(error, BaseException) else str(error)
    click.echo(f"flowc: error: {message}", err=True)
    sys.exit(1)


def _require_settings(target, settings, connect: bool = True) -> None:
    """Every setting the target's deploy needs and lacks, in one message (not one per attempt)."""
    from compiler.commands.deploy_support import missing_settings_message

    message = missing_settings_message(target, _backend(target), settings, connect=connect)
    if message:
        _fail(message)


def _planned(flow, target, flow_name, settings):
    """Front end and lowering only: what trigger and status need (the workflow's name and the
    parameters), without the settings only a compile needs (a datastore, roles)."""
    from compiler.commands._common import emit_diagnostics, exit_code_for, require_file
    from compiler.runtime_spec import plan_for_file

    require_file(flow)
    plan, diagnostics = plan_for_file(flow, flow_name, settings)
    emit_diagnostics([d for d in diagnostics if d.is_error])
    if plan is None or exit_code_for(diagnostics):
        sys.exit(exit_code_for(diagnostics) or 1)
    return plan


@click.command("deploy")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target, help=TARGET_HELP)
@click.option("--flow", "flow_name", default=None, help=FLOW_HELP)
@click.option("--with", "with_options", multiple=True, metavar="DECO[:k=v,...]", help=WITH_HELP)
@click.option("--dry-run", is_flag=True,
              help="Print what would be done and change nothing; needs no cluster or cloud access.")
@click.option("--skip-preflight", is_flag=True,
              help="Do not check that every step's request fits the Batch queue or Kubernetes nodes.")
@settings_options
def deploy(flow, target, flow_name, with_options, dry_run, skip_preflight, **flags):
    """Upload the code package, register job definitions, then create or update the workflow."""
    from compiler.deploy import DeployError, execute

    settings = settings_from(flow, flags)
    result = _compiled(flow, target, flow_name, with_options, settings, connect=not dry_run)
    if dry_run:      # nothing contacted: no cluster, no cloud (preflight asks them, so it waits)
        plan = _backend(target).build_plan(result.plan.flow_name, result.files, result.package, settings)
        click.echo("\n".join(plan.describe()))
        click.echo("dry run: nothing was contacted or changed; a deploy also runs the preflight capacity check",
                   err=True)
        return
    if not skip_preflight:
        _preflight(result.plan, target, settings)
    try:
        plan = _backend(target).build_plan(result.plan.flow_name, result.files, result.package, settings)
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
        from compiler.commands.errors import describe

        click.echo(f"flowc: warning: preflight skipped: {describe(error)[0]}", err=True)
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


def _workflow_name(target, plan):
    from compiler.commands.deploy_support import workflow_name_of

    return workflow_name_of(target, plan)


@click.command("trigger")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target, help=TARGET_HELP)
@click.option("--flow", "flow_name", default=None, help=FLOW_HELP)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A flow parameter; repeat for more.")
@click.option("--run-id", default=None, help="Name the run (default: the engine names it).")
@click.option("--event", default=None, metavar="NAME", help="Publish event NAME instead (Argo Events "
              "webhook / EventBridge), as a user's system would; prints the event id.")
@click.option("--payload", default="{}", metavar="JSON", help="The event's payload (a JSON object).")
@click.option("--tag", "tags", multiple=True, help="Tag the run (repeatable); see Flow.runs(tag).")
@settings_options(only=TRIGGER_SETTINGS)
def trigger(flow, target, flow_name, params, run_id, event, payload, tags, **flags):
    """Start a run of a deployed flow and print its id."""
    from compiler.deploy import DeployError

    settings = settings_from(flow, flags)
    if event is not None:   # the target's deployer publishes (compiler/deploy/publish.py)
        import json

        try:
            body = json.loads(payload)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            click.echo(_backend(target).publish_event(event, body, settings))
        except ValueError as error:
            click.echo(f"flowc: error: --payload: {error}", err=True)
            sys.exit(2)
        except DeployError as error:
            _fail(error)
        return
    plan = _planned(flow, target, flow_name, settings)
    values = _checked_params(plan, params)
    try:
        if tags:   # the tags go into the datastore before the run starts (compiler/deploy/runs.py)
            from compiler.deploy import runs as deploy_runs

            run = deploy_runs.start_run(target, _workflow_name(target, plan), plan.flow_name, values, settings,
                                        {"tags": sorted(set(tags))}, run_id)
        else:
            run = _backend(target).trigger(_workflow_name(target, plan), values, settings, run_id)
    except DeployError as error:
        _fail(error)
    click.echo(run)


@click.command("status")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.argument("run", required=False)
@click.option("--target", "-t", type=TARGETS, required=True, callback=canonical_target, help=TARGET_HELP)
@click.option("--flow", "flow_name", default=None, help=FLOW_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@settings_options(only=TRIGGER_SETTINGS)
def status(flow, run, target, flow_name, as_json, **flags):
    """Show a run's state per step (the latest run when RUN is not given)."""
    import json

    from compiler.commands.errors import is_not_found
    from compiler.deploy import DeployError, RunNotFound

    settings = settings_from(flow, flags)
    plan = _planned(flow, target, flow_name, settings)
    name = _workflow_name(target, plan)
    try:
        state = _backend(target).status(name, settings, run)
    except RunNotFound:
        _fail(f"no run {run} of {name} on {target}: check the run id (`flowc runs FLOW -t {target}` lists them)")
    except DeployError as error:
        _fail(error)
    except Exception as error:  # an unknown run id: one clear line, no engine traceback
        from compiler.deploy import runs as deploy_runs

        if run and (is_not_found(error) or deploy_runs.missing_run(error)):
            _fail(f"no run {run} of {name} on {target}: check the run id (`flowc runs FLOW -t {target}` "
                  "lists them)")
        raise
    if as_json:
        click.echo(json.dumps(state, indent=2, sort_keys=True))
        return
    click.echo(f"run {state['run_id']}: {state['status']}")
    for step, counts in state["steps"].items():
        click.echo(f"  {step:<30} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
