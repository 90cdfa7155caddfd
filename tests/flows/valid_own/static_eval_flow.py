import os

from metaflow import FlowSpec, environment, resources, step

MB = 1024
BASE = {"cpu": 1 + 1, "memory": 4 * MB}
ENV = {"A": "1"}
PREFIX = "v" "x"
VERSION = 3 if MB > 1000 else 4



class StaticEvalFlow(FlowSpec):
    @resources(**BASE, disk=2 ** 11)
    @environment(vars=dict(ENV, NAME=f"{PREFIX}-{VERSION}"))
    @step
    def start(self):
        self.env = {k: os.environ.get(k) for k in ("A", "NAME")}
        self.next(self.end)

    @step
    def end(self):
        assert self.env == {"A": "1", "NAME": "vx-3"}, self.env   # the statically evaluated @environment


if __name__ == "__main__":
    StaticEvalFlow()
