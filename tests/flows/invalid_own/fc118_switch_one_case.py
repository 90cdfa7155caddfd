# expect: FC118 at line 9
from metaflow import FlowSpec, step


class BadFC118Flow(FlowSpec):
    @step
    def start(self):
        self.c = "a"
        self.next({"a": self.end}, condition="c")  # <--

    @step
    def end(self):
        pass

