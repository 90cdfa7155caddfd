"""The upstream of a chain: prepares data; train_flow.py starts when it finishes."""
from metaflow import FlowSpec, Parameter, step


class DataFlow(FlowSpec):
    rows = Parameter("rows", default=3, type=int)

    @step
    def start(self):
        self.table = list(range(self.rows))
        self.next(self.end)

    @step
    def end(self):
        print("prepared", len(self.table), "rows")


if __name__ == "__main__":
    DataFlow()
