# expect: FC258 at line 8
from metaflow import Config, FlowSpec, config_expr, resources, step


class BadExprFlow(FlowSpec):
    cfg = Config("cfg", default_value={"cpu": 2})

    @resources(cpu=config_expr("cfg.cpu +"))
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
