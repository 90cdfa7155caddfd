# expect: FC117 at line 8
from metaflow import FlowSpec, step, parallel


class BadFC117Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.t, num_parallel=0)  # <--

    @parallel
    @step
    def t(self):
        self.next(self.j)

    @step
    def j(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

