from metaflow import FlowSpec, step


class SwitchInBranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.c = "u"
        self.next({"u": self.u, "w": self.w}, condition="c")

    @step
    def u(self):
        self.v = 1
        self.next(self.a_done)

    @step
    def w(self):
        self.v = 2
        self.next(self.a_done)

    @step
    def a_done(self):
        self.next(self.j)

    @step
    def b(self):
        self.v = 10
        self.next(self.j)

    @step
    def j(self, inputs):
        self.total = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.total == 11


if __name__ == "__main__":
    SwitchInBranchFlow()
