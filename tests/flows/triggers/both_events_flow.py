"""Waits for two events (an AND); each maps one parameter."""
from metaflow import FlowSpec, Parameter, step, trigger


@trigger(events=[{"name": "features.ready", "parameters": {"features": "path"}},
                 {"name": "labels.ready", "parameters": [("labels", "path_labels")]}])
class BothEventsFlow(FlowSpec):
    features = Parameter("features", default="none")
    labels = Parameter("labels", default="none")

    @step
    def start(self):
        self.pair = (self.features, self.labels)
        self.next(self.end)

    @step
    def end(self):
        print(self.pair)


if __name__ == "__main__":
    BothEventsFlow()
