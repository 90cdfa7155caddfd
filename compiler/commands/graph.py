"""`flowc graph FILE`: the flow as Mermaid (for Markdown), Graphviz dot, JSON, or an SVG/PNG
image drawn by Graphviz's `dot` when it is installed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import click

SHAPES_MERMAID = {"start": ("([", "])"), "end": ("([", "])"), "switch": ("{", "}"),
                  "join": ("[[", "]]"), "split": ("[/", "/]"), "foreach": ("[/", "/]"),
                  "parallel": ("[/", "/]"), "linear": ("[", "]")}
SHAPES_DOT = {"start": "oval", "end": "oval", "switch": "diamond", "join": "invtrapezium",
              "split": "trapezium", "foreach": "trapezium", "parallel": "trapezium", "linear": "box"}
FORMATS = ["mermaid", "dot", "json", "svg", "png"]
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 _.,:=()\-]")


def _edges(graph):
    for name, node in graph.nodes.items():
        for target in node.out:
            label = None
            if node.kind == "switch":
                keys = [k for k, v in node.cases.items() if v == target]
                label = " | ".join(keys)
            elif node.kind == "foreach":
                label = f"foreach {node.foreach_var}"
            elif node.kind == "parallel":
                label = f"num_parallel={node.num_parallel}" if node.num_parallel else "num_parallel"
            yield name, target, label, node.kind


def mermaid_ids(graph) -> dict[str, str]:
    """Node ids that can never be a Mermaid keyword (`end`, `subgraph`, `style`, `class`, ...)
    nor need quoting: every id starts with `step_`; a name Mermaid's lexer may not take (non-ASCII
    letters) gets its position instead, under another prefix, so ids never collide."""
    return {name: (f"step_{name}" if name.isascii() else f"stepu{i}")
            for i, name in enumerate(graph.nodes)}


def mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: anything but plain characters as an entity code (#35;)."""
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def to_mermaid(graph) -> str:
    ids = mermaid_ids(graph)
    lines = ["flowchart TD"]
    for name, node in graph.nodes.items():
        a, b = SHAPES_MERMAID.get(node.kind, ("[", "]"))
        lines.append(f'    {ids[name]}{a}"{mermaid_text(name)}"{b}')
    for src, dst, label, kind in _edges(graph):
        arrow = "==>" if kind in ("foreach", "parallel") else "-->"
        if label:
            lines.append(f'    {ids[src]} {arrow}|"{mermaid_text(label)}"| {ids[dst]}')
        else:
            lines.append(f"    {ids[src]} {arrow} {ids[dst]}")
    return "\n".join(lines) + "\n"


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph) -> str:
    lines = [f"digraph {_dot_str(graph.flow.class_name)} {{", "    rankdir=TB;", "    node [fontname=Helvetica];"]
    for name, node in graph.nodes.items():
        label = _dot_str(f"{name}\n({node.kind})")
        lines.append(f'    {_dot_str(name)} [shape={SHAPES_DOT.get(node.kind, "box")}, label={label}];')
    for src, dst, label, kind in _edges(graph):
        attrs = []
        if label:
            attrs.append(f"label={_dot_str(label)}")
        if kind in ("foreach", "parallel"):
            attrs.append("style=bold")
        lines.append(f"    {_dot_str(src)} -> {_dot_str(dst)}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph) -> str:
    """The graph as data: steps in topological order with their kind and successors, and edges."""
    steps = []
    for name, node in graph.nodes.items():
        entry = {"name": name, "kind": node.kind, "next": list(node.out)}
        if node.kind == "foreach":
            entry["foreach"] = node.foreach_var
        if node.kind == "switch":
            entry["cases"] = dict(node.cases)
        if node.kind == "parallel" and node.num_parallel:
            entry["num_parallel"] = node.num_parallel
        if node.matching_join:
            entry["join"] = node.matching_join
        if node.join_of:
            entry["join_of"] = node.join_of
        steps.append(entry)
    edges = [{"from": s, "to": d, "kind": k, **({"label": lab} if lab else {})} for s, d, lab, k in _edges(graph)]
    doc = {"flow": graph.flow.class_name, "start": graph.start, "end": graph.end, "steps": steps, "edges": edges}
    return json.dumps(doc, indent=2) + "\n"


def render_image(dot_text: str, fmt: str) -> bytes:
    """SVG or PNG bytes drawn by Graphviz's `dot`; click.ClickException when it is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        raise click.ClickException(
            f"--format {fmt} needs Graphviz's `dot` on PATH (install graphviz: apt-get install graphviz, "
            "brew install graphviz), or use --format dot and render it elsewhere")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise click.ClickException(f"Graphviz `dot` ({exe}) could not run: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise click.ClickException(f"Graphviz `dot` ({exe}) failed: {message[-1] if message else done.returncode}")
    return done.stdout


@click.command("graph")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--flow", "flow_name", default=None, help="Flow class when the file has several.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True,
              help="mermaid (for Markdown), dot (Graphviz), json (steps and edges as data), "
                   "svg or png (drawn by Graphviz's `dot`, which must be installed).")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="Write to this file instead of standard output.")
def graph(file, flow_name, fmt, output):
    """Print the graph of the flow in FILE (Mermaid for Markdown, Graphviz dot, JSON, SVG or PNG)."""
    from compiler.commands.check import report_internal
    from compiler.diagnostics.render import render_text
    from compiler.frontend.api import analyze_file

    if not os.path.isfile(file):
        click.echo(f"flowc: cannot read {file}: no such file", err=True)
        sys.exit(2)
    a = analyze_file(file, flow_name)
    if a.internal_error:
        report_internal(a.internal_error)
        sys.exit(70)
    if a.graph is None:
        click.echo(render_text(a.diagnostics, {file: a.source}), err=True, nl=False)
        sys.exit(1)
    if fmt in ("svg", "png"):
        data = render_image(to_dot(a.graph), fmt)
    else:
        data = {"mermaid": to_mermaid, "dot": to_dot, "json": to_json}[fmt](a.graph).encode("utf-8")
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    errors = [d for d in a.diagnostics if d.is_error]
    if errors:
        click.echo(render_text(errors, {file: a.source}), err=True, nl=False)
