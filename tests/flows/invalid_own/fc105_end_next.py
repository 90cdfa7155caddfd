# expect: FC105 at line 12
from metaflow import FlowSpec, step


class BadFC105Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.next(self.start)  # <--

