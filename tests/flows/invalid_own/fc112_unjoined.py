# expect: FC112 at line 8
from metaflow import FlowSpec, step


class BadFC112Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)  # <--

    @step
    def a(self):
        self.next(self.end)

    @step
    def b(self):
        self.next(self.end)

    @step
    def end(self):
        pass

