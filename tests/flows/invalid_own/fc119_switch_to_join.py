# expect: FC119 at line 13
from metaflow import FlowSpec, step


class BadFC119Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.c = "j"
        self.next({"j": self.j, "k": self.k}, condition="c")  # <--

    @step
    def k(self):
        self.next(self.j)

    @step
    def b(self):
        self.next(self.j)

    @step
    def j(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

