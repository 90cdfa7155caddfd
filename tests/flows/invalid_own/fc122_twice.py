# expect: FC122 at line 11
from metaflow import FlowSpec, step


class BadFC122Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def start(self):  # <--
        self.next(self.end)

    @step
    def end(self):
        pass

