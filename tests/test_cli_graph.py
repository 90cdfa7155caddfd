"""`flowc graph`: Mermaid that Mermaid's own parser (npm `mermaid`, under jsdom, no browser)
accepts for every test flow, node ids that are never Mermaid keywords, JSON, and SVG/PNG through
Graphviz's `dot` (a clear message without it)."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from compiler.cli import main

ROOT = Path(__file__).resolve().parents[1]
FLOWS = sorted((ROOT / "tests" / "flows" / "shared" / "valid").glob("*.py")) + \
    sorted((ROOT / "tests" / "flows" / "valid_own").glob("*.py"))
PARSER = ROOT / "tests" / "js" / "mermaid_parse.mjs"

# Step names that are Mermaid keywords, and switch keys full of Mermaid's special characters.
KEYWORDS_FLOW = '''from metaflow import FlowSpec, step


class KeywordFlow(FlowSpec):
    @step
    def start(self):
        self.mode = "a"
        self.next({"a|b": self.subgraph, 'q"x]': self.style, "#1; end": self.click}, condition="mode")

    @step
    def subgraph(self):
        self.next(self.graph)

    @step
    def style(self):
        self.next(self.graph)

    @step
    def click(self):
        self.next(self.graph)

    @step
    def graph(self):
        self.items = [1, 2]
        self.next(self.direction, foreach="items")

    @step
    def direction(self):
        self.next(self.classDef)

    @step
    def classDef(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def mermaid_parse(texts: list[str]) -> list[dict]:
    """Mermaid's verdict on each text (one node process for all of them)."""
    assert (ROOT / "node_modules" / "mermaid").is_dir(), "run `npm ci` (package.json pins mermaid and jsdom)"
    assert shutil.which("node"), "node is not on PATH"
    proc = subprocess.run(["node", str(PARSER)], input=json.dumps(texts), capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def graph(*args):
    r = CliRunner().invoke(main, ["graph", *map(str, args)])
    return r


def test_every_flow_renders_in_mermaid_and_the_old_output_did_not(tmp_path):
    keywords = tmp_path / "keywords.py"
    keywords.write_text(KEYWORDS_FLOW)
    texts, names = [], []
    for flow in [*FLOWS, keywords]:
        r = graph(flow)
        if r.exit_code != 0:        # a file without a single flow (several, or a base class only)
            assert flow.name in ("multi_flow_main.py",), (flow, r.output)
            continue
        texts.append(r.stdout)
        names.append(flow.name)
    assert len(texts) >= 30
    hello = texts[names.index("hello.py")]
    # the ids flowc wrote before: the step names themselves, `end` among them
    old = re.sub(r"\bstep_", "", hello)
    results = mermaid_parse(texts + [old])
    bad = [(n, r["error"]) for n, r in zip(names, results) if not r["ok"]]
    assert not bad, bad
    assert all(r["type"].startswith("flowchart") for r in results[:-1])
    assert not results[-1]["ok"] and "end" in results[-1]["error"]


def test_mermaid_ids_and_labels(tmp_path):
    keywords = tmp_path / "keywords.py"
    keywords.write_text(KEYWORDS_FLOW)
    out = graph(keywords).stdout
    assert 'step_end(["end"])' in out and 'step_subgraph["subgraph"]' in out
    # the user's switch keys reach the label only as entity codes, never as syntax
    assert '|"a#124;b"|' in out and '|"q#34;x#93;"|' in out and '|"#35;1#59; end"|' in out
    assert "step_graph ==>|\"foreach items\"| step_direction" in out


def test_json_format(tmp_path):
    r = graph(ROOT / "tests" / "flows" / "shared" / "valid" / "switch.py", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["start"] == "start" and doc["end"] == "end"
    kinds = {s["name"]: s["kind"] for s in doc["steps"]}
    assert doc["steps"][0]["name"] == "start" and doc["steps"][-1]["name"] == "end"
    switch = next(s for s in doc["steps"] if s["kind"] == "switch")
    assert switch["cases"] and set(switch["cases"].values()) == set(switch["next"])
    assert {(e["from"], e["to"]) for e in doc["edges"]} == {(s["name"], n) for s in doc["steps"] for n in s["next"]}
    assert kinds["start"] == "switch" and kinds["end"] == "end"


def _graph_subprocess(args, path_env):
    env = dict(os.environ, PATH=path_env)
    return subprocess.run([sys.executable, "-m", "compiler.cli", "graph", *args], capture_output=True, env=env,
                          cwd=ROOT, timeout=120)


def test_svg_without_graphviz_is_one_clear_line(tmp_path):
    flow = ROOT / "tests" / "flows" / "shared" / "valid" / "hello.py"
    empty = tmp_path / "bin"
    empty.mkdir()
    r = _graph_subprocess([str(flow), "--format", "svg"], str(empty))
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "Traceback" not in err and "graphviz" in err.lower() and "--format dot" in err
    assert len(err.strip().splitlines()) == 1


def test_svg_and_png_are_drawn_by_dot(tmp_path):
    """A stand-in `dot` records what it was given; with the real Graphviz installed it runs too."""
    flow = ROOT / "tests" / "flows" / "shared" / "valid" / "foreach.py"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!%s\nimport sys\ndata = sys.stdin.read()\n"
                              "assert data.startswith('digraph'), data\n"
                              "sys.stdout.write('<svg>' + sys.argv[1] + '</svg>')\n" % sys.executable)
    (fake / "dot").chmod((fake / "dot").stat().st_mode | stat.S_IEXEC)
    r = _graph_subprocess([str(flow), "--format", "svg", "-o", str(tmp_path / "g.svg")], str(fake))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g.svg").read_text() == "<svg>-Tsvg</svg>"
    real = shutil.which("dot")
    if real:     # the machine has Graphviz: the real drawing
        r = _graph_subprocess([str(flow), "--format", "png"], os.path.dirname(real))
        assert r.returncode == 0 and r.stdout.startswith(b"\x89PNG"), r.stderr
