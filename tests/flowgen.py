"""A seeded generator of random VALID flows for tests/test_fuzz_targets.py: linear chains, static
splits, foreach (nested to any depth), switches, with random step names within Python's and
Metaflow's rules (lowercase, digits, '_', not leading '_'): long ones (cut with a hash on Argo),
and near twins that collide once '_' becomes '-' or runs of '_' are squeezed. Every step
records its name (and, first in a foreach body, its input) in the artifact `rec`; joins
concatenate their inputs' `rec` in input order; `end` stores the whole trace as `result`, so two
engines that ran the same graph must end with equal `result`s."""
from __future__ import annotations

import keyword
import random
import string

RESERVED = {"start", "end", "next", "input", "index", "inputs", "foreach_stack", "merge_artifacts",
            "name", "script_name", "cmd", "run", "self", "rec", "result", "parallel"}


class Gen:
    def __init__(self, seed: int, max_steps: int = 9, max_depth: int = 3):
        self.rng = random.Random(seed)
        self.max_steps, self.max_depth = max_steps, max_depth
        self.names: set[str] = set()
        self.steps: list[tuple[str, list[str]]] = []        # (name, body lines)
        self.cls = "Fuzz%dFlow" % seed

    def new_name(self) -> str:
        rng = self.rng
        while True:
            style = rng.random()
            if style < 0.5:
                n = rng.choice(string.ascii_lowercase) + "".join(
                    rng.choice(string.ascii_lowercase + string.digits + "_") for _ in range(rng.randint(0, 10)))
            elif style < 0.65:     # long: Kubernetes names are cut at 63 with a hash
                n = "long_step_name_" + "".join(rng.choice("abc_") for _ in range(rng.randint(30, 45)))
            elif style < 0.8 and self.names:   # a near twin of an existing name
                base = rng.choice(sorted(self.names))
                n = rng.choice([base + "_", base.replace("_", "__"), base + "_0", base[:-1] + "_" + base[-1:]])
            else:
                n = rng.choice(["step", "s", "x", "a_b", "a__b", "t_1", "main", "foreach"]) + rng.choice(["", "_", "0", "_1"])
            if n.isidentifier() and not keyword.iskeyword(n) and n not in self.names \
                    and n not in RESERVED and not n.startswith("_") \
                    and n == n.lower() and len(n) <= 55:
                self.names.add(n)
                return n

    def add(self, name, lines):
        self.steps.append((name, lines))

    def budget(self) -> bool:
        return len(self.steps) < self.max_steps

    def seq(self, depth, cont, n, first_in_foreach=False):
        for i in range(n):
            cont = self.block(depth, cont, first_in_foreach and i == n - 1)
        return cont

    def _rec(self, name, first_in_foreach):
        if first_in_foreach:
            return ["self.rec = self.rec + ['%s:%%s' %% (self.input,)]" % name]
        return ["self.rec = self.rec + [%r]" % name]

    def block(self, depth, cont, first_in_foreach=False):
        rng = self.rng
        kinds = ["linear"]
        if self.budget() and depth < self.max_depth:
            kinds += ["split", "foreach", "switch"]
        kind = rng.choice(kinds)
        if first_in_foreach and kind == "switch":
            kind = "linear"
        if kind == "linear":
            name = self.new_name()
            self.add(name, self._rec(name, first_in_foreach) + ["self.next(self.%s)" % cont])
            return name
        if kind == "split":
            join = self.new_name()
            self.add(join, ["self.rec = [r for i in inputs for r in i.rec] + [%r]" % join,
                            "self.next(self.%s)" % cont])
            branches = [self.seq(depth, join, rng.randint(1, 2)) for _ in range(rng.randint(2, 3))]
            name = self.new_name()
            self.add(name, self._rec(name, first_in_foreach) + ["self.next(%s)" % ", ".join("self." + b for b in branches)])
            return name
        if kind == "foreach":
            join = self.new_name()
            self.add(join, ["self.rec = [r for i in inputs for r in i.rec] + [%r]" % join,
                            "self.next(self.%s)" % cont])
            body = self.seq(depth + 1, join, rng.randint(1, 2), first_in_foreach=True)
            name = self.new_name()
            var = "items_%d" % len(self.steps)
            self.add(name, self._rec(name, first_in_foreach) + [
                "self.%s = %r" % (var, [rng.choice("xyz") + str(i) for i in range(rng.randint(1, 3))]),
                "self.next(self.%s, foreach=%r)" % (body, var)])
            return name
        # switch: cases are linear chains converging on `after`
        after = self.new_name()
        self.add(after, self._rec(after, False) + ["self.next(self.%s)" % cont])
        cases = {"c%d" % i: self.seq(depth, after, rng.randint(1, 2)) for i in range(rng.randint(2, 3))}
        var = "choice_%d" % len(self.steps)
        name = self.new_name()
        chosen = rng.choice(sorted(cases))
        self.add(name, self._rec(name, first_in_foreach) + [
            "self.%s = %r" % (var, chosen),
            "self.next({%s}, condition=%r)" % (", ".join("%r: self.%s" % kv for kv in cases.items()), var)])
        return name

    def source(self) -> str:
        self.add("end", ["self.result = self.rec + ['end']"])
        entry = self.seq(0, "end", self.rng.randint(1, 3))
        lines = ["from metaflow import FlowSpec, step", "", "", "class %s(FlowSpec):" % self.cls,
                 "    @step", "    def start(self):", "        self.rec = ['start']",
                 "        self.next(self.%s)" % entry, ""]
        for name, body in reversed(self.steps):
            arg = ", inputs" if body[0].startswith("self.rec = [r for i in inputs") else ""
            lines += ["    @step", "    def %s(self%s):" % (name, arg)] + ["        " + b for b in body] + [""]
        return "\n".join(lines) + "\n"


def flow_source(seed: int, **kw) -> tuple[str, str]:
    g = Gen(seed, **kw)
    return g.source(), g.cls
