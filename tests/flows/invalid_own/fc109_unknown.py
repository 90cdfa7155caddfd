# expect: FC109 at line 8
from metaflow import FlowSpec, step


class BadFC109Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.ned)  # <--

    @step
    def end(self):
        pass

