# expect: FC107 at line 11
from metaflow import FlowSpec, step


class BadFC107Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self, x, y):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

