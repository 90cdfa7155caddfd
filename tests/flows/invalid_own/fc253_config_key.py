# expect: FC253 at line 8
from metaflow import Config, FlowSpec, resources, step


class MissingKeyFlow(FlowSpec):
    cfg = Config("cfg", default_value={"resources": {"cpu": 2}})

    @resources(cpu=cfg.resources.cpus)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
