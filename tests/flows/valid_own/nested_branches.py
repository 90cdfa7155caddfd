from metaflow import FlowSpec, step


class NestedBranchesFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.v = 1
        self.next(self.ja)

    @step
    def a2(self):
        self.v = 2
        self.next(self.ja)

    @step
    def ja(self, inputs):
        self.v = sum(i.v for i in inputs)
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
        assert self.total == 13


if __name__ == "__main__":
    NestedBranchesFlow()
