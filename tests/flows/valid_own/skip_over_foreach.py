"""A switch case that is also the target of a foreach join: `start` switches to `fan` (a foreach,
joined in `gather`) or straight to `after`, which `gather` also leads to."""
from metaflow import FlowSpec, Parameter, step


class SkipOverForeachFlow(FlowSpec):
    route = Parameter("route", default="fan")

    @step
    def start(self):
        self.visited = ["start"]
        self.total = 0
        self.choice = self.route
        self.next({"fan": self.fan, "skip": self.after}, condition="choice")

    @step
    def fan(self):
        self.visited = self.visited + ["fan"]
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.sq = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.visited = inputs[0].visited + ["gather"]
        self.total = sum(i.sq for i in inputs)
        self.next(self.after)

    @step
    def after(self):
        self.visited = self.visited + ["after"]
        self.next(self.end)

    @step
    def end(self):
        if self.route == "fan":
            assert self.visited == ["start", "fan", "gather", "after"], self.visited
            assert self.total == 14, self.total
        else:
            assert self.visited == ["start", "after"], self.visited
            assert self.total == 0, self.total


if __name__ == "__main__":
    SkipOverForeachFlow()
