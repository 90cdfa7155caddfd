# expect: FC216 at line 6
from metaflow import FlowSpec, Parameter, step


class BadFC216Flow(FlowSpec):
    alpha = Parameter("alpha", defualt=0.5)  # <--

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
