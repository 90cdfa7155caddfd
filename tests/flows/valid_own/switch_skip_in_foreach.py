"""Switches inside a foreach body: each item's `pick` either runs `heavy` and then `tidy`, or
skips straight to `tidy` (a conditional skip); `classify` then switches to `even` or `odd`, whose
cases lead straight to the foreach join `gather`."""
from metaflow import FlowSpec, step


class SwitchSkipInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3, 4, 5]
        self.next(self.pick, foreach="items")

    @step
    def pick(self):
        self.n = self.input
        self.visited = ["pick"]
        self.size = "big" if self.n > 2 else "small"
        self.parity = "even" if self.n % 2 == 0 else "odd"
        self.next({"big": self.heavy, "small": self.tidy}, condition="size")

    @step
    def heavy(self):
        self.visited = self.visited + ["heavy"]
        self.n = self.n * 100
        self.next(self.tidy)

    @step
    def tidy(self):
        self.visited = self.visited + ["tidy"]
        self.next(self.classify)

    @step
    def classify(self):
        self.next({"even": self.even, "odd": self.odd}, condition="parity")

    @step
    def even(self):
        self.visited = self.visited + ["even"]
        self.next(self.gather)

    @step
    def odd(self):
        self.visited = self.visited + ["odd"]
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.ns = [i.n for i in inputs]
        self.paths = [i.visited for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.ns == [1, 2, 300, 400, 500], self.ns
        assert self.paths == [
            ["pick", "tidy", "odd"],
            ["pick", "tidy", "even"],
            ["pick", "heavy", "tidy", "odd"],
            ["pick", "heavy", "tidy", "even"],
            ["pick", "heavy", "tidy", "odd"],
        ], self.paths


if __name__ == "__main__":
    SwitchSkipInForeachFlow()
