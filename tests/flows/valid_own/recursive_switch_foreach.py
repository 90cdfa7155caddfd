from metaflow import FlowSpec, step


class RecursiveSwitchForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.n = self.input
        self.i = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.i += 1
        self.state = "again" if self.i < self.n else "done"
        self.next({"again": self.loop, "done": self.out}, condition="state")

    @step
    def out(self):
        self.next(self.j)

    @step
    def j(self, inputs):
        self.counts = [i.i for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.counts == [1, 2], self.counts


if __name__ == "__main__":
    RecursiveSwitchForeachFlow()
