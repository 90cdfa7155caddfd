# expect: FC206 at line 7
from metaflow import FlowSpec, step, Parameter


class BadFC206Flow(FlowSpec):
    a = Parameter("alpha", default=1)
    b = Parameter("alpha", default=2)  # <--

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

