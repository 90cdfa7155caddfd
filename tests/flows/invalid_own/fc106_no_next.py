# expect: FC106 at line 7
from metaflow import FlowSpec, step


class BadFC106Flow(FlowSpec):
    @step
    def start(self):  # <--
        self.x = 1

    @step
    def end(self):
        pass

