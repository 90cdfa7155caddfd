# expect: FC221 at line 6
from metaflow import FlowSpec, Parameter, step, batch


class BadFC221Flow(FlowSpec):
    @batch(ephemeral_storage=50, use_tmpfs=True)  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
