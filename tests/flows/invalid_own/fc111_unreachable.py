# expect: FC111 at line 15
from metaflow import FlowSpec, step


class BadFC111Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

    @step
    def lost(self):  # <--
        self.next(self.end)

