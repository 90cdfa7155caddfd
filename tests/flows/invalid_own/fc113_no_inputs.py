# expect: FC113 at line 19
from metaflow import FlowSpec, step


class BadFC113Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.j)

    @step
    def b(self):
        self.next(self.j)

    @step
    def j(self):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

