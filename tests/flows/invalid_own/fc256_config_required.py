# expect: FC256 at line 6
from metaflow import Config, FlowSpec, step


class RequiredConfigFlow(FlowSpec):
    cfg = Config("cfg", required=True)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
