from metaflow import FlowSpec, catch, environment, resources, retry, step, timeout, project, project


@project(name="decos")
class DecoratorsAllFlow(FlowSpec):
    @retry(times=1, minutes_between_retries=0)
    @timeout(minutes=5)
    @resources(cpu=1, memory=1024, disk=2048)
    @step
    def start(self):
        self.next(self.work)

    @catch(var="err")
    @environment(vars={"MODE": "x"})
    @step
    def work(self):
        import os
        self.mode = os.environ.get("MODE")
        self.next(self.end)

    @step
    def end(self):
        assert self.mode == "x"
        assert self.err is None


if __name__ == "__main__":
    DecoratorsAllFlow()
