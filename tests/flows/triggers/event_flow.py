"""Starts on an external event; payload fields fill two parameters."""
from metaflow import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "data.ready", "parameters": {"table": "table_name", "limit": "row_limit"}})
class EventFlow(FlowSpec):
    table = Parameter("table", default="default_table")
    limit = Parameter("limit", default=10, type=int)
    note = Parameter("note", default="untouched")

    @step
    def start(self):
        self.seen = {"table": self.table, "limit": self.limit, "note": self.note}
        self.next(self.end)

    @step
    def end(self):
        print(self.seen)


if __name__ == "__main__":
    EventFlow()
