# expect: FC220 at line 5
from metaflow import FlowSpec, Parameter, step, exit_hook


@exit_hook(on_error=["notfy"])  # <--
class BadFC220Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
