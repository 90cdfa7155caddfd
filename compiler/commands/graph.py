"""`flowc graph FILE`: the flow as Mermaid (for Markdown) or Graphviz dot."""
from __future__ import annotations

import os
import sys

import click

SHAPES_MERMAID = {"start": ("([", "])"), "end": ("([", "])"), "switch": ("{", "}"),
                  "join": ("[[", "]]"), "split": ("[/", "/]"), "foreach": ("[/", "/]"),
                  "parallel": ("[/", "/]"), "linear": ("[", "]")}
SHAPES_DOT = {"start": "oval", "end": "oval", "switch": "diamond", "join": "invtrapezium",
              "split": "trapezium", "foreach": "trapezium", "parallel": "trapezium", "linear": "box"}


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


def to_mermaid(graph) -> str:
    lines = ["flowchart TD"]
    for name, node in graph.nodes.items():
        a, b = SHAPES_MERMAID.get(node.kind, ("[", "]"))
        lines.append(f'    {name}{a}"{name}"{b}')
    for src, dst, label, kind in _edges(graph):
        arrow = "==>" if kind in ("foreach", "parallel") else "-->"
        if label:
            lines.append(f'    {src} {arrow}|"{label}"| {dst}')
        else:
            lines.append(f"    {src} {arrow} {dst}")
    return "\n".join(lines) + "\n"


def to_dot(graph) -> str:
    lines = [f'digraph "{graph.flow.class_name}" {{', "    rankdir=TB;", "    node [fontname=Helvetica];"]
    for name, node in graph.nodes.items():
        lines.append(f'    "{name}" [shape={SHAPES_DOT.get(node.kind, "box")}, label="{name}\\n({node.kind})"];')
    for src, dst, label, kind in _edges(graph):
        attrs = []
        if label:
            attrs.append(f'label="{label}"')
        if kind in ("foreach", "parallel"):
            attrs.append("style=bold")
        lines.append(f'    "{src}" -> "{dst}"' + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


@click.command("graph")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--flow", "flow_name", default=None, help="Flow class when the file has several.")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True)
def graph(file, flow_name, fmt):
    """Print the graph of the flow in FILE (Mermaid for Markdown, or Graphviz dot)."""
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
    try:
        click.echo(to_mermaid(a.graph) if fmt == "mermaid" else to_dot(a.graph), nl=False)
    except Exception:
        import traceback
        report_internal(traceback.format_exc())
        sys.exit(70)
    errors = [d for d in a.diagnostics if d.is_error]
    if errors:
        click.echo(render_text(errors, {file: a.source}), err=True, nl=False)
