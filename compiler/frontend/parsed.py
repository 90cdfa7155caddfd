"""What the parser reads, before and after positions are known.

The parser walks the libcst tree once and keeps what it read in the Raw* records below (libcst
nodes, not positions). One positions pass then turns the nodes it asked for into spans, and the
records become the FlowModel (model.py) plus the ParseResult facts that lint needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from compiler.diagnostics import Diagnostic
from compiler.frontend.model import Decorator, FlowModel, Span, Transition
from compiler.frontend.source import SourceFile


@dataclass
class RawDecorator:
    """A decorator as written: its canonical name, where the name comes from, evaluated arguments."""

    name: str                                   # canonical Metaflow name, or the last part of the written one
    origin: str                                 # "metaflow" | "other" | "missing" (used, never imported)
    local: str                                  # the name as written (`kube` for `import kubernetes as kube`)
    args: dict[str, Any]                        # keyword arguments that evaluated
    arg_nodes: dict[str, cst.CSTNode]           # argument name -> its value node (for spans)
    positional: list[cst.CSTNode]               # positional arguments (refused by lint)
    node: cst.BaseExpression                    # the decorator expression
    model: Decorator | None = None              # set once positions are known
    positional_spans: list[Span] = field(default_factory=list)


@dataclass
class RawStep:
    """A @step method as read; the last definition of a name wins (as in Python)."""

    func: cst.FunctionDef
    own: bool                                   # defined in the flow class itself, not a base flow
    decorators: list[RawDecorator]
    is_start: bool
    is_end: bool
    num_args: int
    tail: cst.Call | None                       # the tail self.next(...) call
    nested: list[cst.Call]                      # self.next calls anywhere else in the body
    transition: Transition | None = None        # None: no tail, or a tail that could not be read
    target_nodes: dict[str, cst.CSTNode] = field(default_factory=dict)   # target step -> its node
    docstring: str | None = None


@dataclass
class RawParameter:
    """A `x = Parameter(...)` / IncludeFile / Config class attribute, arguments evaluated."""

    attr: str
    kind: str                                   # "parameter" | "include_file" | "config"
    canon: str                                  # "Parameter" | "IncludeFile" | "Config"
    kw: dict[str, Any]                          # argument name -> value (positional ones mapped by name)
    nodes: dict[str, cst.CSTNode]
    call: cst.Call
    target: cst.Name
    bad: bool                                   # an argument could not be read (already reported)


@dataclass
class StepExtra:
    """Facts about a step that the model does not carry but lint needs."""

    tail_is_next: bool = False
    nested_next: list[Span] = field(default_factory=list)   # self.next calls not in tail position
    target_spans: dict[str, Span] = field(default_factory=dict)
    decorators: list[RawDecorator] = field(default_factory=list)


@dataclass
class ParseResult:
    source: SourceFile
    model: FlowModel | None
    diagnostics: list[Diagnostic]
    steps: dict[str, StepExtra] = field(default_factory=dict)
    non_step_methods: dict[str, Span] = field(default_factory=dict)   # methods ending in self.next
    duplicate_steps: list[tuple[str, Span, Span]] = field(default_factory=list)
    flow_decorators: list[RawDecorator] = field(default_factory=list)
    module_functions: set[str] = field(default_factory=set)   # module-level defs (@exit_hook)
