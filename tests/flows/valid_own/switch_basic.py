from metaflow import FlowSpec, step


class SwitchBasicFlow(FlowSpec):
    @step
    def start(self):
        self.route = "b"
        self.next({"a": self.a, "b": self.b}, condition="route")

    @step
    def a(self):
        self.r = "a"
        self.next(self.end)

    @step
    def b(self):
        self.r = "b"
        self.next(self.end)

    @step
    def end(self):
        assert self.r == "b"


if __name__ == "__main__":
    SwitchBasicFlow()
