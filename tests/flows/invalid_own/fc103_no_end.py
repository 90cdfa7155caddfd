# expect: FC103 at line 5
from metaflow import FlowSpec, step


class NoEnd(FlowSpec):
    @step
    def start(self):
        self.next(self.last)

    @step
    def last(self):
        pass
