from metaflow import FlowSpec, step


class BaseFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.middle)

    @step
    def end(self):
        assert self.x == 2, self.x


class ChildFlow(BaseFlow):
    @step
    def middle(self):
        self.x += 1
        self.next(self.end)


if __name__ == "__main__":
    ChildFlow()
