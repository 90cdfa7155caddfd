"""A switch in each branch of a static split: `a` picks `a1` or `a2` (both lead to the join);
`b` picks `b1` (then `b2`) or skips straight to `b2`. The join gets one input per branch."""
from metaflow import FlowSpec, Parameter, step


class SwitchInBothBranchesFlow(FlowSpec):
    left = Parameter("left", default="a2")
    right = Parameter("right", default="b1")

    @step
    def start(self):
        self.visited = ["start"]
        self.next(self.a, self.b)

    @step
    def a(self):
        self.visited = self.visited + ["a"]
        self.c = self.left
        self.next({"a1": self.a1, "a2": self.a2}, condition="c")

    @step
    def a1(self):
        self.visited = self.visited + ["a1"]
        self.next(self.join)

    @step
    def a2(self):
        self.visited = self.visited + ["a2"]
        self.next(self.join)

    @step
    def b(self):
        self.visited = self.visited + ["b"]
        self.c = self.right
        self.next({"b1": self.b1, "b2": self.b2}, condition="c")

    @step
    def b1(self):
        self.visited = self.visited + ["b1"]
        self.next(self.b2)

    @step
    def b2(self):
        self.visited = self.visited + ["b2"]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.paths = [list(i.visited) for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        right = ["start", "b", "b1", "b2"] if self.right == "b1" else ["start", "b", "b2"]
        assert self.paths == [["start", "a", self.left], right], self.paths


if __name__ == "__main__":
    SwitchInBothBranchesFlow()
