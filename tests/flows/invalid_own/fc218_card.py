# expect: FC218 at line 6
from metaflow import FlowSpec, Parameter, step, card


class BadFC218Flow(FlowSpec):
    @card(type="blank")  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
