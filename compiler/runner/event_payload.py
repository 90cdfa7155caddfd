"""`flowc run --event-payload JSON`: the parameters an @trigger flow's mapping takes from an event
payload, as `--param NAME=VALUE` pairs (explicit --param values, given after, win).

The JSON is the event's payload (`{"table_name": ...}`); for a flow waiting on several events it
may instead hold one payload per event name (`{"features.ready": {...}, "labels.ready": {...}}`).
A mapped field the payload lacks leaves its parameter to its default, as the Argo Sensor does.

For @trigger_on_finish the payload is the upstream's completion event (`{"flow_name": ...,
"run_id": ...}`, what its end step publishes): the run must be one of the upstream flows and have
finished successfully in the datastore, as Metaflow's local `--trigger Flow/run_id` requires.
"""
from __future__ import annotations

import json
from typing import Any


class EventPayloadError(ValueError):
    pass


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def event_params(plan: Any, payload_text: str, datastore: str | None = None) -> tuple[list[str], list[Any]]:
    """(["name=value", ...], diagnostics of the flow's triggers)."""
    from compiler.triggers import analyze, payload_values

    try:
        payload = json.loads(payload_text)
    except ValueError as error:
        raise EventPayloadError(f"--event-payload is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise EventPayloadError("--event-payload must be a JSON object")
    triggers, diagnostics = analyze(plan)
    if not triggers:
        raise EventPayloadError(f"{plan.flow_name} has no @trigger: --event-payload maps nothing")
    names = {d.name for d in triggers.dependencies}
    per_event = payload if payload and set(payload) <= names and all(isinstance(v, dict) for v in payload.values()) \
        else {d.name: payload for d in triggers.dependencies}
    values = payload_values(triggers, per_event)
    upstream = [d for d in triggers.dependencies if d.kind == "run"]
    if upstream:
        _check_upstream(upstream, per_event, datastore)
    return [f"{k}={_text(v)}" for k, v in sorted(values.items())], diagnostics


def _check_upstream(upstream, per_event: dict, datastore: str | None) -> None:
    from runtime_shim.client import Run

    given = [p for p in per_event.values() if isinstance(p, dict) and p.get("flow_name") and p.get("run_id")]
    flows = {d.flow for d in upstream}
    if not given:
        raise EventPayloadError("@trigger_on_finish: the payload is the upstream's completion event "
                                "{\"flow_name\": ..., \"run_id\": ...} of " + " or ".join(sorted(flows)))
    for payload in given:
        if payload["flow_name"] not in flows:
            raise EventPayloadError(f"@trigger_on_finish waits for {' or '.join(sorted(flows))}, "
                                    f"not {payload['flow_name']}")
        pathspec = "%s/%s" % (payload["flow_name"], payload["run_id"])
        try:
            ok = Run(pathspec, datastore=datastore).successful
        except Exception as error:  # noqa: BLE001 - the client's errors for a run that is not there
            raise EventPayloadError(f"run {pathspec}: {error}") from None
        if not ok:
            raise EventPayloadError(f"run {pathspec} has not finished successfully")


def from_command_line(flow_path: str, flow_name: str | None, payload_text: str, datastore: str | None = None) -> tuple[str, ...]:
    """For the CLI: the pairs, or exit 1 (trigger diagnostics) / 2 (a bad payload) with a message."""
    import sys

    import click

    from compiler.diagnostics import has_errors
    from compiler.runtime_spec import plan_for_file

    plan, diagnostics = plan_for_file(flow_path, flow_name, None, ())
    if plan is None:
        return ()   # the run itself reports why the flow does not load
    try:
        pairs, problems = event_params(plan, payload_text, datastore)
    except EventPayloadError as error:
        click.echo(f"flowc: error: {error}", err=True)
        sys.exit(2)
    if problems:
        from dataclasses import replace

        from compiler.runner import _print_diagnostics

        problems = [d if d.path else replace(d, path=flow_path) for d in problems]

        _print_diagnostics(problems, lambda line: click.echo(line, err=True))
        if has_errors(problems):
            sys.exit(1)
    return tuple(pairs)
