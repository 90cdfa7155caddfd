"""Metaflow 2.19's conditional skip: `start` switches to `work` or straight to `end`, and `work`
also leads to `end`. Only one of them runs, so `end` is not a join. `route` picks the case."""
from metaflow import FlowSpec, Parameter, step


class ConditionalSkipToEndFlow(FlowSpec):
    route = Parameter("route", default="skip")

    @step
    def start(self):
        self.visited = ["start"]
        self.value = 1
        self.choice = self.route
        self.next({"work": self.work, "skip": self.end}, condition="choice")

    @step
    def work(self):
        self.visited = self.visited + ["work"]
        self.value += 10
        self.next(self.end)

    @step
    def end(self):
        if self.route == "work":
            assert self.visited == ["start", "work"] and self.value == 11, (self.visited, self.value)
        else:
            assert self.visited == ["start"] and self.value == 1, (self.visited, self.value)


if __name__ == "__main__":
    ConditionalSkipToEndFlow()
