"""A conditional skip inside one branch of a static split: `b` switches to `c` (then `d`) or
straight to `d`; `d` and `a` go to the join. `route` picks the case."""
from metaflow import FlowSpec, Parameter, step


class SkipInSplitBranchFlow(FlowSpec):
    route = Parameter("route", default="long")

    @step
    def start(self):
        self.visited = ["start"]
        self.next(self.a, self.b)

    @step
    def a(self):
        self.visited = self.visited + ["a"]
        self.next(self.join)

    @step
    def b(self):
        self.visited = self.visited + ["b"]
        self.choice = self.route
        self.next({"long": self.c, "short": self.d}, condition="choice")

    @step
    def c(self):
        self.visited = self.visited + ["c"]
        self.next(self.d)

    @step
    def d(self):
        self.visited = self.visited + ["d"]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.paths = sorted(list(i.visited) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        if self.route == "long":
            assert self.paths == [["start", "a"], ["start", "b", "c", "d"]], self.paths
        else:
            assert self.paths == [["start", "a"], ["start", "b", "d"]], self.paths


if __name__ == "__main__":
    SkipInSplitBranchFlow()
