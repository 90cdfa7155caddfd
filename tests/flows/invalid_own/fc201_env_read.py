# expect: FC201 at line 7
from metaflow import FlowSpec, step, resources
import os


class BadFC201Flow(FlowSpec):
    @resources(memory=os.environ["MEM"])  # <--
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

