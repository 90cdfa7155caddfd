# expect: FC108 at line 8
from metaflow import FlowSpec, step


class BadFC108Flow(FlowSpec):
    @step
    def start(self):
        self.next(getattr(self, 'end'))  # <--

    @step
    def end(self):
        pass

