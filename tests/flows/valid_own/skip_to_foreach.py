"""A conditional skip whose target is a foreach: `start` goes to `prep` (which then goes to `fan`)
or straight to `fan`; the foreach and its join run once either way."""
from metaflow import FlowSpec, Parameter, step


class SkipToForeachFlow(FlowSpec):
    route = Parameter("route", default="prep")

    @step
    def start(self):
        self.visited = ["start"]
        self.items = [1, 2]
        self.choice = self.route
        self.next({"prep": self.prep, "skip": self.fan}, condition="choice")

    @step
    def prep(self):
        self.visited = self.visited + ["prep"]
        self.items = self.items + [3]
        self.next(self.fan)

    @step
    def fan(self):
        self.visited = self.visited + ["fan"]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.double = self.input * 2
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.visited = inputs[0].visited + ["gather"]
        self.doubles = [i.double for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        if self.route == "prep":
            assert self.visited == ["start", "prep", "fan", "gather"], self.visited
            assert self.doubles == [2, 4, 6], self.doubles
        else:
            assert self.visited == ["start", "fan", "gather"], self.visited
            assert self.doubles == [2, 4], self.doubles


if __name__ == "__main__":
    SkipToForeachFlow()
