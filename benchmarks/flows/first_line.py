"""In-container cost: the first line of the user's step prints the wall-clock time it ran at."""
import time

from metaflow import FlowSpec, step


class FirstLineFlow(FlowSpec):
    @step
    def start(self):
        print("FLOWC_BENCH_FIRST_LINE %.6f" % time.time(), flush=True)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FirstLineFlow()
