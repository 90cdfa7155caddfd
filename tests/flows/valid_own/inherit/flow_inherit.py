"""A flow whose steps, parameters, config and @project come from base classes in base_flows.py."""
from base_flows import Middle
from metaflow import current, resources, step


class InheritFlow(Middle):
    @resources(cpu=1)
    @step
    def middle(self):
        self.child = self.base_value + 1
        self.project = current.project_name
        self.next(self.end)

    @step
    def end(self):
        assert self.base_value == self.alpha * 2, self.base_value
        assert self.child == self.base_value + 1
        assert self.tag_line == "from the middle"
        assert self.project == "inherited", self.project
