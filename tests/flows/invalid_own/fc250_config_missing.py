# expect: FC250 at line 6
from metaflow import Config, FlowSpec, step


class MissingConfigFlow(FlowSpec):
    cfg = Config("cfg", default="no_such_config.json")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
