from metaflow import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "data.ready", "parameters": {"tabel": "table_name"}})
class BadMappingFlow(FlowSpec):
    table = Parameter("table", default="t")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
