"""@exit_hook with module-level functions: `notify` on error, `celebrate` on success. Each hook
prints a line saying what it saw, and appends it to the file named by $HOOK_OUT when set."""
import os

from metaflow import FlowSpec, Parameter, exit_hook, step


def notify(run=None):
    _record("error", run)


def celebrate(run):
    _record("success", run)


def _record(event, run):
    line = "hook-saw %s %s %s" % (event, run.id if run is not None else "-",
                                  run["start"].task.data.x if run is not None else "-")
    print(line, flush=True)
    if os.environ.get("HOOK_OUT"):
        with open(os.environ["HOOK_OUT"], "a") as f:
            f.write(line + "\n")


@exit_hook(on_error=[notify], on_success=["celebrate"])
class ExitHookFlow(FlowSpec):
    fail = Parameter("fail", default=False, type=bool)

    @step
    def start(self):
        self.x = 7
        self.next(self.end)

    @step
    def end(self):
        if self.fail:
            raise RuntimeError("failing on purpose")
