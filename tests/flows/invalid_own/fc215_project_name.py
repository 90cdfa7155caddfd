# expect: FC215 at line 5
from metaflow import FlowSpec, Parameter, step, project


@project(name="../../etc/passwd")  # <--
class BadFC215Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
