# expect: FC210 at line 6
from metaflow import FlowSpec, step, schedule


class BadFC210Flow(FlowSpec):
    @schedule(daily=True)  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

