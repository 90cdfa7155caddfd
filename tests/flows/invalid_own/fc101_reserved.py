# expect: FC101 at line 11
from metaflow import FlowSpec, step


class BadFC101Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.index)

    @step
    def index(self):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

