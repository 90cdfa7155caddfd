# expect: FC252 at line 6
from metaflow import Config, FlowSpec, step


class ListConfigFlow(FlowSpec):
    cfg = Config("cfg", default_value="[1, 2]")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
