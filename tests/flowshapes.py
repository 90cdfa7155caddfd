"""Generated flows of a given size and shape (long chains, deep nesting), for tests and benchmarks."""
from __future__ import annotations


def long_linear(n: int) -> str:
    """start -> s0 -> ... -> s{n-1} -> end; end asserts every step ran once."""
    lines = ["from metaflow import FlowSpec, step", "", "", "class LongFlow(FlowSpec):",
             "    @step", "    def start(self):", "        self.x = 0", "        self.next(self.s0)"]
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "end"
        lines += ["", "    @step", f"    def s{i}(self):", "        self.x += 1", f"        self.next(self.{nxt})"]
    lines += ["", "    @step", "    def end(self):", f"        assert self.x == {n}, self.x", "",
              "", "if __name__ == '__main__':", "    LongFlow()"]
    return "\n".join(lines) + "\n"


def nested_splits(depth: int, chain: int = 0) -> str:
    """split_i -> (a_i -> chain of `chain` steps, split_{i+1}) ... joined innermost first.

    Steps: 3 * depth + depth * chain + 3. end asserts the innermost branch's value came through."""
    lines = ["from metaflow import FlowSpec, step", "", "", "class NestedFlow(FlowSpec):",
             "    @step", "    def start(self):", "        self.next(self.split0)"]
    for i in range(depth):
        inner = f"split{i + 1}" if i + 1 < depth else "leaf"
        lines += ["", "    @step", f"    def split{i}(self):", f"        self.next(self.a{i}_0, self.{inner})"]
        for k in range(chain + 1):
            nxt = f"a{i}_{k + 1}" if k < chain else f"join{i}"
            lines += ["", "    @step", f"    def a{i}_{k}(self):", f"        self.v = {i}", f"        self.next(self.{nxt})"]
    lines += ["", "    @step", "    def leaf(self):", f"        self.v = {depth}", f"        self.next(self.join{depth - 1})"]
    for i in reversed(range(depth)):
        nxt = f"join{i - 1}" if i > 0 else "end"
        lines += ["", "    @step", f"    def join{i}(self, inputs):", "        self.v = max(inp.v for inp in inputs)",
                  f"        self.next(self.{nxt})"]
    lines += ["", "    @step", "    def end(self):", f"        assert self.v == {depth}, self.v", "",
              "", "if __name__ == '__main__':", "    NestedFlow()"]
    return "\n".join(lines) + "\n"
