from metaflow import FlowSpec, schedule, step


@schedule(daily=True)
class ScheduledTriggerFlow(FlowSpec):
    @step
    def start(self):
        self.ticks = 1
        self.next(self.end)

    @step
    def end(self):
        assert self.ticks == 1, self.ticks


if __name__ == "__main__":
    ScheduledTriggerFlow()
