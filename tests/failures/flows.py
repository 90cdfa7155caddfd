"""The flows of the failure tests: one that fails in a foreach body, and its fix."""
from __future__ import annotations

FAILING = '''from metaflow import FlowSpec, step


class {name}(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        print("start items", self.items)
        self.next(self.body, foreach="items")

    @step
    def body(self):
        print("body item", self.input)
        if self.input == 2:
            raise ValueError("bad item %d" % self.input)
        self.sq = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.sq for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)
        assert self.total == 14
'''
RAISE_LINE = FAILING.splitlines().index('            raise ValueError("bad item %d" % self.input)') + 1
FIXED = FAILING.replace("if self.input == 2:", "if self.input == 99:")
# the graph's failed suffix: body (every foreach item), join, end run again; start is cloned
RERUN = {"body": 3, "join": 1, "end": 1}
CLONED = {"start": 1}


def write(path, name, fixed=False):
    path.write_text((FIXED if fixed else FAILING).format(name=name))
    return str(path)


def executed_and_cloned(run):
    """{step: tasks that ran} and {step: tasks cloned from the origin} of a client Run."""
    ran: dict = {}
    cloned: dict = {}
    for step in run.steps():
        for t in step.tasks():
            into = cloned if t.manifest.get("origin_run_id") else ran
            into[step.id] = into.get(step.id, 0) + 1
    return ran, cloned
