# expect: FC214 at line 6
from metaflow import FlowSpec, Parameter, step, resources


class BadFC214Flow(FlowSpec):
    @resources(gpu=1.5)  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
