"""`flowc logs Flow/run_id/step[/task_id]`: the stored stdout and stderr of a task's attempt (on
every engine the runtime stores them in the datastore, in chunks, while the task runs)."""
from __future__ import annotations

import sys
import time

import click

from compiler.commands._runs import DATASTORE_HELP

POLL_SECONDS = 1.0


@click.command("logs")
@click.argument("pathspec")
@click.option("--stdout", "stream", flag_value="stdout", help="Only stdout.")
@click.option("--stderr", "stream", flag_value="stderr", help="Only stderr.")
@click.option("--attempt", type=click.IntRange(0), default=None, help="An attempt (default: the latest).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing while the task runs.")
@click.option("--datastore", default=None, metavar="URI", help=DATASTORE_HELP)
def logs(pathspec, stream, attempt, follow, datastore):
    """Print a task's logs (PATHSPEC: Flow/run_id/step[/task_id]; every task of the step without
    a task id). Both streams unless --stdout or --stderr."""
    from compiler.commands._runs import datastore_root, fail, resolve_run, resolve_step

    root = datastore_root(datastore)
    parts = pathspec.strip("/").split("/")
    if len(parts) not in (3, 4) or not all(parts):
        fail("PATHSPEC is Flow/run_id/step[/task_id]", 2)
    run = resolve_run(parts, root)
    step = resolve_step(run, parts[2])
    tasks = step.tasks(complete_only=False)
    if len(parts) == 4:
        tasks = [t for t in tasks if t.id == parts[3]]
        if not tasks:
            fail(f"step {step.pathspec} has no task {parts[3]!r}")
    streams = [stream] if stream else ["stdout", "stderr"]
    out = _binary_stdout()
    for t in tasks:
        if attempt is not None and attempt not in t.attempts():
            fail(f"task {t.pathspec} has no attempt {attempt} (attempts: "
                 f"{', '.join(map(str, t.attempts())) or 'none'})")
        for name in streams:
            if len(tasks) > 1 or len(streams) > 1:
                click.echo(f"--- {t.pathspec} {name}", err=True)
            if follow:
                _follow(t, name, attempt, out)
            else:
                for _, chunk in t.log_chunks(name, attempt):
                    out.write(chunk)
                out.flush()


def _binary_stdout():
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        return buffer

    class _Text:        # a text-only stdout (an embedding caller): decode, never fail on bytes
        def write(self, data):
            sys.stdout.write(data.decode("utf-8", "replace"))

        def flush(self):
            sys.stdout.flush()
    return _Text()


def _follow(task, stream, attempt, out) -> None:
    """Print chunks as they are stored until the attempt has ended (complete or failed)."""
    next_chunk = 0
    while True:
        ended = task.finished or task.failure(attempt) is not None
        for number, chunk in task.log_chunks(stream, attempt, start=next_chunk):
            out.write(chunk)
            next_chunk = number + 1
        out.flush()
        if ended:
            return
        time.sleep(POLL_SECONDS)
        task._manifest = None   # read again: the task may have completed since
