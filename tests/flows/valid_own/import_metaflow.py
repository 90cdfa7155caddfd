import metaflow


class ImportMetaflowFlow(metaflow.FlowSpec):
    @metaflow.step
    def start(self):
        self.x = 1
        self.next(self.end)

    @metaflow.step
    def end(self):
        assert self.x == 1


if __name__ == "__main__":
    ImportMetaflowFlow()
