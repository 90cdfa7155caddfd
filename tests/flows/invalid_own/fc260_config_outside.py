# expect: FC260 at line 6
from metaflow import Config, FlowSpec, step


class OutsideConfigFlow(FlowSpec):
    cfg = Config("cfg", default="../valid_own/config_json.json")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
