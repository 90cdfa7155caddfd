from metaflow import FlowSpec, step


class Branch3Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.v = 1
        self.next(self.j)

    @step
    def b(self):
        self.v = 2
        self.next(self.j)

    @step
    def c(self):
        self.v = 3
        self.next(self.j)

    @step
    def j(self, inputs):
        self.total = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.total == 6


if __name__ == "__main__":
    Branch3Flow()
