# expect: FC114 at line 11
from metaflow import FlowSpec, step


class BadFC114Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.j)

    @step
    def j(self, inputs):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

