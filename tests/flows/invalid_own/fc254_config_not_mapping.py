# expect: FC254 at line 8
from metaflow import Config, FlowSpec, resources, step


class NotMappingFlow(FlowSpec):
    cfg = Config("cfg", default_value={"cpu": 2})

    @resources(cpu=cfg.cpu.count)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
