from metaflow import FlowSpec, step


class HelperFlow(FlowSpec):
    @step
    def start(self):
        self.origin = "helper"
        self.next(self.end)

    @step
    def end(self):
        assert self.origin == "helper", self.origin


class MainFlow(FlowSpec):
    @step
    def start(self):
        self.origin = "main"
        self.next(self.end)

    @step
    def end(self):
        assert self.origin == "main", self.origin   # the --flow chosen, not the file's first


if __name__ == "__main__":
    MainFlow()
