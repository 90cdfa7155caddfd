"""Two switches that can both skip to `merge`: `start` goes to `inner` or straight to `merge`;
`inner` goes to `extra` (which leads to `merge`) or straight to `merge`."""
from metaflow import FlowSpec, Parameter, step


class NestedSwitchSkipFlow(FlowSpec):
    outer = Parameter("outer", default="in")
    inner_route = Parameter("inner_route", default="extra")

    @step
    def start(self):
        self.visited = ["start"]
        self.o = self.outer
        self.next({"in": self.inner, "skip": self.merge}, condition="o")

    @step
    def inner(self):
        self.visited = self.visited + ["inner"]
        self.i = self.inner_route
        self.next({"extra": self.extra, "skip": self.merge}, condition="i")

    @step
    def extra(self):
        self.visited = self.visited + ["extra"]
        self.next(self.merge)

    @step
    def merge(self):
        self.visited = self.visited + ["merge"]
        self.next(self.end)

    @step
    def end(self):
        if self.outer == "skip":
            expected = ["start", "merge"]
        elif self.inner_route == "skip":
            expected = ["start", "inner", "merge"]
        else:
            expected = ["start", "inner", "extra", "merge"]
        assert self.visited == expected, self.visited


if __name__ == "__main__":
    NestedSwitchSkipFlow()
