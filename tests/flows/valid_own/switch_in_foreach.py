from metaflow import FlowSpec, step


class SwitchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3, 4]
        self.next(self.pick, foreach="items")

    @step
    def pick(self):
        self.n = self.input
        self.parity = "even" if self.n % 2 == 0 else "odd"
        self.next({"even": self.even, "odd": self.odd}, condition="parity")

    @step
    def even(self):
        self.v = self.n * 10
        self.next(self.done)

    @step
    def odd(self):
        self.v = self.n
        self.next(self.done)

    @step
    def done(self):
        self.next(self.j)

    @step
    def j(self, inputs):
        self.vals = [i.v for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.vals == [1, 20, 3, 40], self.vals


if __name__ == "__main__":
    SwitchInForeachFlow()
