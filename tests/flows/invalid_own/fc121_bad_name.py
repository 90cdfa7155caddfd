# expect: FC121 at line 11
from metaflow import FlowSpec, step


class BadFC121Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.Train)

    @step
    def Train(self):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

