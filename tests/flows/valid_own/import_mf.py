import metaflow as mf


class ImportMfFlow(mf.FlowSpec):
    @mf.retry(times=1)
    @mf.step
    def start(self):
        self.x = 5
        self.next(self.end)

    @mf.step
    def end(self):
        assert self.x == 5


if __name__ == "__main__":
    ImportMfFlow()
