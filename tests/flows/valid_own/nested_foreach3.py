from metaflow import FlowSpec, step


class NestedForeach3Flow(FlowSpec):
    @step
    def start(self):
        self.xs = [1, 2]
        self.next(self.l1, foreach="xs")

    @step
    def l1(self):
        self.x = self.input
        self.ys = [10, 20]
        self.next(self.l2, foreach="ys")

    @step
    def l2(self):
        self.y = self.input
        self.zs = [100, 200]
        self.next(self.l3, foreach="zs")

    @step
    def l3(self):
        self.v = self.x + self.y + self.input
        self.next(self.j3)

    @step
    def j3(self, inputs):
        self.v = sum(i.v for i in inputs)
        self.next(self.j2)

    @step
    def j2(self, inputs):
        self.v = sum(i.v for i in inputs)
        self.next(self.j1)

    @step
    def j1(self, inputs):
        self.total = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        assert self.total == (1 + 2) * 4 + (10 + 20) * 4 + (100 + 200) * 4, self.total  # each value meets 4 others


if __name__ == "__main__":
    NestedForeach3Flow()
