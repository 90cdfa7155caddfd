"""Front-end scaling: analyze_file on generated linear+branch+foreach flows of N steps.

Prints the in-process median time of analyze_file and the whole-process `flowc check` time.
Usage: python benchmarks/frontend_scaling.py [N ...]   (default: 100 1000 2000 10000)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate(n: int) -> str:
    """About n steps: blocks of linear steps, a 2-way branch and a foreach with a 2-step body."""
    out = ["from metaflow import FlowSpec, resources, step", "", "", "class Scale(FlowSpec):"]

    def st(name, body, args="self", deco=None):
        if deco:
            out.append(f"    @{deco}")
        out.extend([f"    @step", f"    def {name}({args}):"] + [f"        {b}" for b in body] + [""])

    prev = "start"
    st("start", ["self.x = 0", "self.next(self.b0_l0)"])
    i = 0
    count = 1
    while count < n - 1:
        p = f"b{i}"
        st(f"{p}_l0", ["self.x += 1", f"self.next(self.{p}_l1)"], deco="resources(cpu=1, memory=1024)")
        st(f"{p}_l1", [f"self.next(self.{p}_a, self.{p}_b)"])
        st(f"{p}_a", [f"self.next(self.{p}_j)"])
        st(f"{p}_b", [f"self.next(self.{p}_j)"])
        st(f"{p}_j", [f"self.next(self.{p}_fs)"], args="self, inputs")
        st(f"{p}_fs", ["self.items = [1, 2]", f"self.next(self.{p}_f1, foreach=\"items\")"])
        st(f"{p}_f1", [f"self.next(self.{p}_f2)"])
        st(f"{p}_f2", [f"self.next(self.{p}_fj)"])
        count += 9
        i += 1
        nxt = f"b{i}_l0" if count < n - 1 else "end"
        st(f"{p}_fj", [f"self.next(self.{nxt})"], args="self, inputs")
    st("end", ["pass"])
    return "\n".join(out) + "\n"


def main(sizes):
    from compiler.frontend.api import analyze_file

    print(f"{'steps':>7} {'lines':>7} {'analyze_file (median)':>22} {'flowc check (process)':>22}")
    for n in sizes:
        text = generate(n)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, f"scale_{n}.py")
            with open(path, "w") as fh:
                fh.write(text)
            reps = 5 if n <= 2000 else 3
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                a = analyze_file(path)
                times.append(time.perf_counter() - t)
            assert a.ok, a.diagnostics[:3]
            steps = len(a.model.steps)
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "compiler.cli", "check", path],
                               capture_output=True)
            proc = time.perf_counter() - t
            assert r.returncode == 0, r.stderr
            print(f"{steps:>7} {text.count(chr(10)):>7} {statistics.median(times):>21.3f}s {proc:>21.3f}s")


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [100, 1000, 2000, 10000])
