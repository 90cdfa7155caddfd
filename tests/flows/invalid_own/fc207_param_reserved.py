# expect: FC207 at line 6
from metaflow import FlowSpec, step, Parameter


class BadFC207Flow(FlowSpec):
    tag = Parameter("tag", default="x")  # <--

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

