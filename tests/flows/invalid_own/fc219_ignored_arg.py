# expect: FC219 at line 6
from metaflow import FlowSpec, Parameter, step, kubernetes


class BadFC219Flow(FlowSpec):
    @kubernetes(compute_pool="gpu")  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
