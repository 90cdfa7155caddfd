"""Lint: every rule runs, every diagnostic is collected (never stop at the first)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.diagnostics import Diagnostic
from compiler.diagnostics.codes import get

if TYPE_CHECKING:
    from compiler.frontend.graph import GraphFacts
    from compiler.frontend.model import FlowGraph, FlowModel
    from compiler.frontend.parsed import ParseResult


@dataclass
class Context:
    parsed: ParseResult
    model: FlowModel
    graph: FlowGraph
    facts: GraphFacts
    out: list[Diagnostic]

    def report(self, code, message, span, notes=(), severity=None):
        c = get(code)
        sev = severity or (c.severity if c else "error")
        span = self.parsed.source.clamp(span) if span is not None else None
        self.out.append(Diagnostic(code, sev, message, span, path=self.model.path, notes=tuple(notes)))


def run_all(parsed, graph, facts) -> list[Diagnostic]:
    from compiler.frontend.lint import decorators, parameters, splits, structure, transitions

    ctx = Context(parsed, parsed.model, graph, facts, [])
    for module in (structure, transitions, splits, decorators, parameters):
        for rule in module.RULES:
            rule(ctx)
    return ctx.out
