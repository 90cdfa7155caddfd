# expect: FC115 at line 27
from metaflow import FlowSpec, step


class BadFC115Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.x)

    @step
    def a2(self):
        self.next(self.y)

    @step
    def b(self):
        self.next(self.x)

    @step
    def x(self, inputs):  # <--
        self.next(self.y)

    @step
    def y(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

