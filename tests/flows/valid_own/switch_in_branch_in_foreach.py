"""Shape (a) inside a foreach body: each item splits into `a` and `b`; `b` switches to `c` (odd
items) or `d` (even items), which lead straight to the static join `pair`; `gather` joins the items."""
from metaflow import FlowSpec, step


class SwitchInBranchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.item, foreach="items")

    @step
    def item(self):
        self.n = self.input
        self.visited = ["item"]
        self.next(self.a, self.b)

    @step
    def a(self):
        self.visited = self.visited + ["a"]
        self.next(self.pair)

    @step
    def b(self):
        self.visited = self.visited + ["b"]
        self.parity = "even" if self.n % 2 == 0 else "odd"
        self.next({"odd": self.c, "even": self.d}, condition="parity")

    @step
    def c(self):
        self.visited = self.visited + ["c"]
        self.next(self.pair)

    @step
    def d(self):
        self.visited = self.visited + ["d"]
        self.next(self.pair)

    @step
    def pair(self, inputs):
        self.n = inputs[0].n
        self.paths = sorted(list(i.visited) for i in inputs)
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.result = [(i.n, i.paths) for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        assert self.result == [
            (1, [["item", "a"], ["item", "b", "c"]]),
            (2, [["item", "a"], ["item", "b", "d"]]),
            (3, [["item", "a"], ["item", "b", "c"]]),
        ], self.result


if __name__ == "__main__":
    SwitchInBranchInForeachFlow()
