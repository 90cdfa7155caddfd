from metaflow import FlowSpec, step


class NestedSwitchFlow(FlowSpec):
    @step
    def start(self):
        self.c1 = "x"
        self.c2 = "q"
        self.next({"x": self.x, "y": self.y}, condition="c1")

    @step
    def x(self):
        self.next({"p": self.p, "q": self.q}, condition="c2")

    @step
    def p(self):
        self.r = "p"
        self.next(self.after)

    @step
    def q(self):
        self.r = "q"
        self.next(self.after)

    @step
    def after(self):
        self.next(self.end)

    @step
    def y(self):
        self.r = "y"
        self.next(self.end)

    @step
    def end(self):
        assert self.r == "q", self.r


if __name__ == "__main__":
    NestedSwitchFlow()
