"""`flowc show Flow[/run_id[/step[/task_id]]]`: the steps, tasks and artifacts of a run (the latest
run of Flow when no run id is given); failed tasks with their error and the `flowc logs` command
that shows more. Exits 1 for a failed run."""
from __future__ import annotations

import sys

import click

from compiler.commands._runs import DATASTORE_HELP


def _short(value, width=70):
    try:
        text = repr(value)
    except Exception as e:  # noqa: BLE001 - a user object whose repr fails
        text = "<unprintable %s: %s>" % (type(value).__name__, e)
    return text if len(text) <= width else text[: width - 3] + "..."


@click.command("show")
@click.argument("pathspec")
@click.option("--datastore", default=None, metavar="URI", help=DATASTORE_HELP)
@click.option("--values/--no-values", default=True, help="Print artifact values (shortened).")
def show(pathspec, datastore, values):
    """Print the steps, tasks and artifacts of a run (PATHSPEC: Flow[/run_id[/step[/task]]], or a
    flow file: its latest run)."""
    from compiler.commands._runs import datastore_root, fail, flow_name_of, resolve_run, resolve_step

    root = datastore_root(datastore)
    parts = pathspec.strip("/").split("/")
    if len(parts) == 1 or pathspec.endswith(".py"):
        parts = [flow_name_of(pathspec)]
    if len(parts) > 4 or not all(parts):
        fail("PATHSPEC is Flow[/run_id[/step[/task_id]]]", 2)
    run = resolve_run(parts, root)
    parts = [run.flow_name, run.id] + parts[2:]
    state = run.state
    failed = run.failed_tasks()
    if len(parts) == 2:
        origin = run.origin_run_id
        word = "successful" if state == "succeeded" else state
        click.echo("Run %s: %s%s" % (run.pathspec, word, "  (resumed from %s)" % origin if origin else ""))
        _failures(failed)
    steps = run.steps() if len(parts) == 2 else [resolve_step(run, parts[2])]
    for step in sorted(steps, key=lambda s: min((t.manifest.get("started_at", 0)
                                                 for t in s.tasks()), default=float("inf"))):
        tasks = step.tasks(complete_only=False)
        if len(parts) == 4:
            tasks = [t for t in tasks if t.id == parts[3]]
            if not tasks:
                fail("step %s has no task %r" % (step.pathspec, parts[3]))
        click.echo("  step %s: %d task(s)" % (step.id, len(tasks)))
        for t in tasks:
            _task(t, step, len(parts) >= 3 or step.id == "end" or len(tasks) <= 4, values)
    if len(parts) == 2 and state == "failed":
        sys.exit(1)


def _failures(failed) -> None:
    from compiler.commands._runs import first_line

    for t in failed:
        exc = t.exception
        click.echo("  FAILED %s/%s (attempt %s): %s" % (t.step_name, t.id, exc.attempt if exc else "?",
                                                        first_line(str(exc)) if exc else "failed"))
        click.echo("    logs: flowc logs %s --stderr" % t.pathspec)


def _task(t, step, with_data, values) -> None:
    if not t.finished:
        exc = t.exception
        if exc is None:
            click.echo("    %s  (not complete)" % t.id)
        else:
            click.echo("    %s  attempt %s  %s%s" % (t.id, exc.attempt, "FAILED" if t.failed else "failed, retrying",
                                                   "  %s" % str(exc).splitlines()[0] if str(exc) else ""))
        return
    m = t.manifest
    extra = []
    if m.get("num_splits") is not None:
        extra.append("num_splits=%s" % m["num_splits"])
    if m.get("branch"):
        extra.append("branch=%s" % m["branch"])
    if m.get("status") != "ok":
        extra.append(m.get("status"))
    if m.get("origin_run_id"):
        extra.append("cloned from %s" % m["origin_run_id"])
    click.echo("    %s  attempt %s  %.2fs%s" % (
        t.id, m.get("attempt"), m.get("finished_at", 0) - m.get("started_at", 0),
        ("  " + " ".join(extra)) if extra else ""))
    if with_data:
        for name in t.data.names():
            size = m["artifacts"][name].get("size")
            if values:
                click.echo("      %s = %s" % (name, _short(getattr(t.data, name))))
            else:
                click.echo("      %s  (%s bytes)" % (name, size))
