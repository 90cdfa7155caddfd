# expect: FC203 at line 6
from metaflow import FlowSpec, step, resources


class BadFC203Flow(FlowSpec):
    @resources(memroy=8000)  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

