"""A conditional skip in the middle of a flow: `start` switches to `work` (two steps long) or
straight to `publish`, which `work2` also leads to; `publish` runs once either way."""
from metaflow import FlowSpec, Parameter, step


class ConditionalSkipChainFlow(FlowSpec):
    route = Parameter("route", default="skip")

    @step
    def start(self):
        self.visited = ["start"]
        self.value = 1
        self.choice = self.route
        self.next({"work": self.work, "skip": self.publish}, condition="choice")

    @step
    def work(self):
        self.visited = self.visited + ["work"]
        self.value += 10
        self.next(self.work2)

    @step
    def work2(self):
        self.visited = self.visited + ["work2"]
        self.value *= 3
        self.next(self.publish)

    @step
    def publish(self):
        self.visited = self.visited + ["publish"]
        self.published = self.value * 2
        self.next(self.end)

    @step
    def end(self):
        if self.route == "work":
            assert self.visited == ["start", "work", "work2", "publish"], self.visited
            assert self.published == 66, self.published
        else:
            assert self.visited == ["start", "publish"], self.visited
            assert self.published == 2, self.published


if __name__ == "__main__":
    ConditionalSkipChainFlow()
