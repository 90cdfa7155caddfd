# expect: FC257 at line 6
from metaflow import Config, FlowSpec, step


class BothDefaultsFlow(FlowSpec):
    cfg = Config("cfg", default="cfg.json", default_value={"a": 1})

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
