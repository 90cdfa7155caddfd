# expect: FC209 at line 7
from metaflow import FlowSpec, step, retry


class BadFC209Flow(FlowSpec):
    @retry(times=1)
    @retry(times=2)  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

