from metaflow import FlowSpec, step


class BranchInSwitchFlow(FlowSpec):
    @step
    def start(self):
        self.c = "wide"
        self.next({"wide": self.wide, "narrow": self.narrow}, condition="c")

    @step
    def wide(self):
        self.next(self.l, self.r)

    @step
    def l(self):
        self.v = 1
        self.next(self.wj)

    @step
    def r(self):
        self.v = 2
        self.next(self.wj)

    @step
    def wj(self, inputs):
        self.v = sum(i.v for i in inputs)
        self.next(self.end)

    @step
    def narrow(self):
        self.v = 0
        self.next(self.end)

    @step
    def end(self):
        assert self.v == 3, self.v


if __name__ == "__main__":
    BranchInSwitchFlow()
