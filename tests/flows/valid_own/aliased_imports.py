from metaflow import FlowSpec as FS, resources as res, step as step_

P = 3


class AliasedImportsFlow(FS):
    @res(cpu=1, memory=1024)
    @step_
    def start(self):
        self.p = P
        self.next(self.end)

    @step_
    def end(self):
        assert self.p == 3


if __name__ == "__main__":
    AliasedImportsFlow()
