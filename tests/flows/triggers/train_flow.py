"""Starts when DataFlow finishes successfully (@trigger_on_finish)."""
from metaflow import FlowSpec, Parameter, current, step, trigger_on_finish


@trigger_on_finish(flow="DataFlow")
class TrainFlow(FlowSpec):
    epochs = Parameter("epochs", default=2, type=int)

    @step
    def start(self):
        self.model = "trained for %d epochs" % self.epochs
        self.next(self.end)

    @step
    def end(self):
        print(self.model)


if __name__ == "__main__":
    TrainFlow()
