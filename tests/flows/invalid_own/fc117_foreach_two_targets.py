# expect: FC117 at line 9
from metaflow import FlowSpec, step


class BadFC117Flow(FlowSpec):
    @step
    def start(self):
        self.items = [1]
        self.next(self.a, self.b, foreach="items")  # <--

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass

