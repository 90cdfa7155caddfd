# expect: FC120 at line 8
from metaflow import FlowSpec, step


class BadFC120Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.t, num_parallel=2)  # <--

    @step
    def t(self):
        self.next(self.j)

    @step
    def j(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

