from metaflow import FlowSpec, JSONType, Parameter, step


class ParamsAllFlow(FlowSpec):
    n = Parameter("n", default=3)
    rate = Parameter("rate", default=0.5)
    name_ = Parameter("name-of-run", default="run")
    flag = Parameter("flag", default=True)
    cfg = Parameter("cfg", type=JSONType, default='{"a": 1}')
    labels = Parameter("labels", default="x,y", separator=",")

    @step
    def start(self):
        assert self.n == 3 and self.rate == 0.5 and self.flag
        assert self.cfg == {"a": 1}
        self.next(self.end)

    @step
    def end(self):
        assert self.name_ == "run"


if __name__ == "__main__":
    ParamsAllFlow()
