"""A switch inside one branch of a static split whose cases lead straight to the join:
start -> a, b; b switches to c or d; a, c, d -> join. The join gets `a` and whichever case ran
(Metaflow 2.19: the join waits for one input per split branch). `route` picks the case."""
from metaflow import FlowSpec, Parameter, step


class SwitchCaseToJoinFlow(FlowSpec):
    route = Parameter("route", default="c")

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
        self.next({"c": self.c, "d": self.d}, condition="choice")

    @step
    def c(self):
        self.visited = self.visited + ["c"]
        self.next(self.join)

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
        other = "d" if self.route == "c" else "c"
        assert self.paths == [["start", "a"], ["start", "b", self.route]], self.paths
        assert not any(other in p for p in self.paths), self.paths


if __name__ == "__main__":
    SwitchCaseToJoinFlow()
