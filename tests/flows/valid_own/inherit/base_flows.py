"""Base flows for flow_inherit.py, in a module of their own (not a flow to run by itself)."""
from metaflow import Config, FlowSpec, Parameter, project, retry, step

FACTOR_KEY = "factor"


class Base(FlowSpec):
    alpha = Parameter("alpha", default=3)
    settings = Config("settings", default_value='{"factor": 2}')

    def helper(self):
        return self.alpha * self.settings[FACTOR_KEY]

    @retry(times=1)
    @step
    def start(self):
        self.base_value = self.helper()
        self.next(self.middle)

    @step
    def end(self):
        raise AssertionError("the flow's own end step replaces this one")


@project(name="inherited")
class Middle(Base):
    tag_line = Parameter("tag_line", default="from the middle")
