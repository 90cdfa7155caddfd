# expect: FC116 at line 9
from metaflow import FlowSpec, step


class BadFC116Flow(FlowSpec):
    @step
    def start(self):
        self.items = [1]
        self.next(self.j, foreach="items")  # <--

    @step
    def j(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

