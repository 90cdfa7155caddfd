# expect: FC004 at line 16
from metaflow import FlowSpec, step


class A(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass



class B(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
