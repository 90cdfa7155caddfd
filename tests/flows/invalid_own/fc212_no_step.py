# expect: FC212 at line 10
from metaflow import FlowSpec, step


class BadFC212Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    def helper(self):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

