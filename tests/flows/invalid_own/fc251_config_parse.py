# expect: FC251 at line 6
from metaflow import Config, FlowSpec, step


class BadJsonConfigFlow(FlowSpec):
    cfg = Config("cfg", default="fc251_config_parse.json")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
