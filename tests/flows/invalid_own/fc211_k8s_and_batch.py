# expect: FC211 at line 7
from metaflow import FlowSpec, step, batch, kubernetes


class BadFC211Flow(FlowSpec):
    @kubernetes
    @batch  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

