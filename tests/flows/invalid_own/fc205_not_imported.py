# expect: FC205 at line 6
from metaflow import FlowSpec, step


class BadFC205Flow(FlowSpec):
    @batch(cpu=2)  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

