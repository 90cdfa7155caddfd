"""Typed data produced by the front end: the flow as written (FlowModel) and as a graph (FlowGraph).

parse.py builds a FlowModel from source without importing it; graph.py turns it into a FlowGraph;
lint/ checks both; lower.py turns a clean FlowGraph into the target-neutral IR (ir.py).
Fields may be added; renaming one is a change of contract for every later stage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Span  # noqa: F401  (re-exported: spans are diagnostics data)


@dataclass
class Decorator:
    """A decorator on a step or on the flow class, with its arguments evaluated statically."""

    name: str                                   # canonical Metaflow name: "resources", "kubernetes", ...
    args: dict[str, Any]                        # keyword arguments that evaluated (positional ones mapped by name)
    span: Span
    arg_spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class ParameterDecl:
    """A `Parameter`, `IncludeFile` or `Config` class attribute. A Config's `default` is its value,
    resolved at compile time (frontend/configs.py); it is never a run-time parameter."""

    attr: str                                   # the class attribute name (what `self.<attr>` reads)
    name: str                                   # the parameter name users pass (may contain '-')
    kind: str                                   # "parameter" | "include_file" | "config"
    type: str                                   # "str" | "int" | "float" | "bool" | "json"
    span: Span
    default: Any = None
    has_default: bool = False
    required: bool = False
    help: str | None = None
    multiple: bool = False
    separator: str | None = None
    is_text: bool = True                        # IncludeFile: text or bytes
    encoding: str = "utf-8"
    plain: bool = False                         # Config(plain=True): the value as is, no ConfigValue
    source: str | None = None                   # Config: where its value came from (file, --config-value, ...)


@dataclass
class Transition:
    """The tail `self.next(...)` of a step."""

    kind: str                                   # "linear" | "split" | "foreach" | "parallel" | "switch"
    targets: list[str]                          # step names, in source order (switch: case values' steps)
    span: Span | None                           # set by the parser once the whole call is read
    foreach: str | None = None                  # artifact name for foreach=
    num_parallel: int | None = None
    condition: str | None = None                # switch: artifact name holding the case key
    cases: dict[str, str] = field(default_factory=dict)   # switch: case key -> step name


@dataclass
class StepDef:
    name: str
    span: Span                                  # the `def` name
    decorators: list[Decorator]
    num_args: int                               # positional parameters including self (join: 2)
    transition: Transition | None               # None: no valid tail self.next (end step, or an error)
    is_start: bool = False                      # @step(start=True)
    is_end: bool = False                        # @step(end=True)
    docstring: str | None = None


@dataclass
class FlowModel:
    path: str
    class_name: str
    span: Span
    steps: dict[str, StepDef]                   # in source order
    parameters: list[ParameterDecl]
    decorators: list[Decorator]                 # flow-level: schedule, project, trigger, ...
    local_modules: list[str] = field(default_factory=list)   # sibling modules imported, relative paths
    docstring: str | None = None
    # Inputs of the analysis besides the flow's source and local_modules (an analysis cache must
    # key on them): config files read, absolute paths; environment variables read (resolve_env
    # opt-in) with the value read (None: unset). Only names are ever written to the output.
    input_files: list[str] = field(default_factory=list)
    env_reads: dict[str, str | None] = field(default_factory=dict)

    @property
    def configs(self) -> list[ParameterDecl]:
        return [p for p in self.parameters if p.kind == "config"]

    def decorator(self, name: str) -> Decorator | None:
        return next((d for d in self.decorators if d.name == name), None)


# Node kinds of the graph. A switch's cases converge on an ordinary linear step (several in-edges,
# one of which runs), never on a join.
NODE_KINDS = ("start", "linear", "split", "foreach", "parallel", "switch", "join", "end")


@dataclass
class GraphNode:
    name: str
    kind: str                                   # one of NODE_KINDS
    out: list[str]                              # successors in transition order
    in_: list[str]                              # predecessors, sorted
    split_parents: list[str] = field(default_factory=list)   # enclosing open splits, outermost first
    matching_join: str | None = None            # for split/foreach/parallel nodes
    foreach_depth: int = 0                      # enclosing foreach/parallel splits not yet joined
    foreach_var: str | None = None
    num_parallel: int | None = None
    condition: str | None = None
    cases: dict[str, str] = field(default_factory=dict)
    recursive: bool = False                     # a switch with itself among its cases
    join_of: str | None = None                  # for joins: the split step they close
    step: StepDef | None = None

    def decorator(self, name: str) -> Decorator | None:
        if self.step is None:
            return None
        return next((d for d in self.step.decorators if d.name == name), None)


@dataclass
class FlowGraph:
    flow: FlowModel
    nodes: dict[str, GraphNode]                 # in topological order (start first, end last)
    start: str
    end: str


@dataclass(frozen=True)
class FunctionRef:
    """A module-level `def` of the flow file named as a value (@exit_hook(on_error=[notify]));
    a value of the model (decorator arguments), so it lives here, not in the evaluator."""

    name: str

    def __repr__(self) -> str:
        return self.name
