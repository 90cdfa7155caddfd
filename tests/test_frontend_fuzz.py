"""Property test: mutated valid flows never make analyze raise; diagnostics are well formed."""
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.frontend.api import analyze_source
from compiler.diagnostics.codes import REGISTRY

HERE = Path(__file__).parent / "flows"
SOURCES = [p.read_text() for p in sorted((HERE / "shared" / "valid").glob("*.py"))
           + sorted((HERE / "valid_own").glob("*.py"))]


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(SOURCES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "dup", "swap", "rename", "retarget", "truncate", "dedent"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "rename":
            names = re.findall(r"def (\w+)", "\n".join(lines))
            if names:
                old = draw(st.sampled_from(names))
                new = draw(st.sampled_from(["start", "end", "input", "x1", old + "_", "Join"]))
                lines = [l.replace(f"def {old}(", f"def {new}(") for l in lines]
        elif op == "retarget":
            names = re.findall(r"def (\w+)", "\n".join(lines)) or ["end"]
            tgt = draw(st.sampled_from(names + ["missing"]))
            kw = draw(st.sampled_from(["", ", foreach=\"items\"", ", num_parallel=2", ", foreach=x"]))
            lines = [re.sub(r"self\.next\(.*\)$", f"self.next(self.{tgt}{kw})", l) if k == i or
                     (k > i and "self.next" in l and draw(st.booleans())) else l
                     for k, l in enumerate(lines)]
        elif op == "truncate":
            text = "\n".join(lines)
            cut = draw(st.integers(0, len(text)))
            lines = text[:cut].splitlines()
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
    return "\n".join(lines) + "\n"


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_mutations_never_raise(text):
    a = analyze_source(text, path="mut.py")
    assert a.internal_error is None, a.internal_error
    n = max(1, len(text.splitlines()))
    for d in a.diagnostics:
        assert d.code in REGISTRY
        if d.span is not None:
            assert 1 <= d.span.line <= n + 1, (d, n)
