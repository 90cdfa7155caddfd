from metaflow import FlowSpec, step


class RecursiveSwitchFlow(FlowSpec):
    @step
    def start(self):
        self.i = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.i += 1
        self.state = "again" if self.i < 3 else "done"
        self.next({"again": self.loop, "done": self.finish}, condition="state")

    @step
    def finish(self):
        self.next(self.end)

    @step
    def end(self):
        assert self.i == 3, self.i


if __name__ == "__main__":
    RecursiveSwitchFlow()
