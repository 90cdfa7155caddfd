# expect: FC202 at line 6
from metaflow import FlowSpec, step, retry


class BadFC202Flow(FlowSpec):
    @retry(times="many")  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

