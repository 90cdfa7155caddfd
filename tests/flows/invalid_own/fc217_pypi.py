# expect: FC217 at line 6
from metaflow import FlowSpec, Parameter, step, pypi


class BadFC217Flow(FlowSpec):
    @pypi(packages={"pandas": "2.2.2"})  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
