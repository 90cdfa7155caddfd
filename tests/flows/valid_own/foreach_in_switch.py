from metaflow import FlowSpec, step


class ForeachInSwitchFlow(FlowSpec):
    @step
    def start(self):
        self.c = "many"
        self.next({"many": self.many, "one": self.one}, condition="c")

    @step
    def many(self):
        self.items = [1, 2, 3]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.v = self.input
        self.next(self.fj)

    @step
    def fj(self, inputs):
        self.v = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def one(self):
        self.v = 1
        self.next(self.end)

    @step
    def end(self):
        assert self.v == 6, self.v


if __name__ == "__main__":
    ForeachInSwitchFlow()
