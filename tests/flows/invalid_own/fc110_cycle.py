# expect: FC110 at line 12
from metaflow import FlowSpec, step


class BadFC110Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.a, self.end)  # <--

    @step
    def end(self):
        pass

