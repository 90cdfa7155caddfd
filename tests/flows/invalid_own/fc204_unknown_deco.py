# expect: FC204 at line 6
from metaflow import FlowSpec, step, checkpoint


class BadFC204Flow(FlowSpec):
    @checkpoint  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

