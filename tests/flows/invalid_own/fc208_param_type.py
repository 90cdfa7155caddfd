# expect: FC208 at line 6
from metaflow import FlowSpec, step, Parameter


class BadFC208Flow(FlowSpec):
    m = Parameter("m", default=[1], type=int)  # <--

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

