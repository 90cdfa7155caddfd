"""@exit_hook with module-level functions: `notify` on error, `celebrate` on success. Each hook
appends a line to the file named by $HOOK_OUT (tests set it) saying what it saw."""
import os

from metaflow import FlowSpec, Parameter, exit_hook, step


def notify(run=None):
    _record("error", run)


def celebrate(run):
    _record("success", run)


def _record(event, run):
    with open(os.environ["HOOK_OUT"], "a") as f:
        f.write("%s %s %s\n" % (event, run.id if run is not None else "-",
                                run["start"].task.data.x if run is not None else "-"))


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
