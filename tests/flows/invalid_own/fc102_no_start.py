# expect: FC102 at line 5
from metaflow import FlowSpec, step


class NoStart(FlowSpec):
    @step
    def first(self):
        self.next(self.end)

    @step
    def end(self):
        pass
