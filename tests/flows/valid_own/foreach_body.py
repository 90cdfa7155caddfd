from metaflow import FlowSpec, step


class ForeachBodyFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.a, foreach="items")

    @step
    def a(self):
        self.v = self.input
        self.next(self.b)

    @step
    def b(self):
        self.v *= 2
        self.next(self.c)

    @step
    def c(self):
        self.v += 1
        self.next(self.j)

    @step
    def j(self, inputs):
        self.vals = [i.v for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.vals == [3, 5, 7], self.vals


if __name__ == "__main__":
    ForeachBodyFlow()
