"""Recursion and a conditional skip together: `start` switches to the recursive `loop` or straight
to `finish`; `loop` repeats itself until `n` reaches 3, then goes to `finish` too."""
from metaflow import FlowSpec, Parameter, step


class RecursiveSkipFlow(FlowSpec):
    route = Parameter("route", default="loop")

    @step
    def start(self):
        self.n = 0
        self.visited = ["start"]
        self.choice = self.route
        self.next({"loop": self.loop, "skip": self.finish}, condition="choice")

    @step
    def loop(self):
        self.n += 1
        self.visited = self.visited + ["loop"]
        self.state = "again" if self.n < 3 else "done"
        self.next({"again": self.loop, "done": self.finish}, condition="state")

    @step
    def finish(self):
        self.visited = self.visited + ["finish"]
        self.next(self.end)

    @step
    def end(self):
        if self.route == "loop":
            assert self.visited == ["start", "loop", "loop", "loop", "finish"], self.visited
            assert self.n == 3, self.n
        else:
            assert self.visited == ["start", "finish"] and self.n == 0, (self.visited, self.n)


if __name__ == "__main__":
    RecursiveSkipFlow()
