# expect: FC104 at line 11
from metaflow import FlowSpec, step


class BadFC104Flow(FlowSpec):
    @step(start=True)
    def a(self):
        self.next(self.end)

    @step(start=True)
    def b(self):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

