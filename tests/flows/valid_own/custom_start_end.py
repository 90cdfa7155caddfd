from metaflow import FlowSpec, step


class CustomStartEndFlow(FlowSpec):
    @step(start=True)
    def begin(self):
        self.x = 1
        self.next(self.middle)

    @step
    def middle(self):
        self.x += 1
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        assert self.x == 2


if __name__ == "__main__":
    CustomStartEndFlow()
