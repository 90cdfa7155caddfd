from consts import CPU, MEM
from metaflow import FlowSpec, resources, step


class ConstsFlow(FlowSpec):
    @resources(cpu=CPU, memory=MEM)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        import helpers
        assert helpers.double(2) == 4


if __name__ == "__main__":
    ConstsFlow()
