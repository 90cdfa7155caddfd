"""`flowc show Flow/run_id[/step[/task_id]]`: the steps, tasks and artifacts of a local run."""
from __future__ import annotations

import sys

import click


def _short(value, width=70):
    try:
        text = repr(value)
    except Exception as e:  # noqa: BLE001 - a user object whose repr fails
        text = "<unprintable %s: %s>" % (type(value).__name__, e)
    return text if len(text) <= width else text[: width - 3] + "..."


@click.command("show")
@click.argument("pathspec")
@click.option("--datastore", default=None, metavar="URI",
              help="Datastore root (default: $FLOWC_DATASTORE, else the nearest .flowc from here up).")
@click.option("--values/--no-values", default=True, help="Print artifact values (shortened).")
def show(pathspec, datastore, values):
    """Print the steps, tasks and artifacts of a run (PATHSPEC: Flow/run_id[/step[/task]])."""
    import os

    from compiler.runner import default_datastore
    from runtime_shim.client import Run, Step, Task

    root = datastore or default_datastore()
    if not (root.startswith("file://") or root.startswith("s3://")):
        root = "file://" + os.path.abspath(root)
    parts = pathspec.strip("/").split("/")
    if len(parts) < 2 or len(parts) > 4:
        click.echo("flowc: error: PATHSPEC is Flow/run_id[/step[/task_id]]", err=True)
        sys.exit(2)
    run = Run("/".join(parts[:2]), datastore=root)
    steps = run.steps()
    if not steps:
        click.echo("flowc: error: no run %s in %s" % ("/".join(parts[:2]), root), err=True)
        sys.exit(1)
    if len(parts) == 2:
        click.echo("Run %s: %s" % (run.pathspec, "successful" if run.successful else
                                   "not finished or failed"))
    if len(parts) >= 3:
        steps = [Step("/".join(parts[:3]), datastore=root)]
    for step in sorted(steps, key=lambda s: min((t.manifest.get("started_at", 0)
                                                 for t in s.tasks()), default=0)):
        tasks = step.tasks()
        if len(parts) == 4:
            tasks = [t for t in tasks if t.id == parts[3]] or [Task("/".join(parts), datastore=root)]
        click.echo("  step %s: %d task(s)" % (step.id, len(tasks)))
        for t in tasks:
            if not t.finished:
                click.echo("    %s  (not complete)" % t.id)
                continue
            m = t.manifest
            extra = []
            if m.get("num_splits") is not None:
                extra.append("num_splits=%s" % m["num_splits"])
            if m.get("branch"):
                extra.append("branch=%s" % m["branch"])
            if m.get("status") != "ok":
                extra.append(m.get("status"))
            click.echo("    %s  attempt %s  %.2fs%s" % (
                t.id, m.get("attempt"), m.get("finished_at", 0) - m.get("started_at", 0),
                ("  " + " ".join(extra)) if extra else ""))
            if len(parts) >= 3 or step.id == "end" or len(tasks) <= 4:
                for name in t.data.names():
                    size = m["artifacts"][name].get("size")
                    if values:
                        click.echo("      %s = %s" % (name, _short(getattr(t.data, name))))
                    else:
                        click.echo("      %s  (%s bytes)" % (name, size))
