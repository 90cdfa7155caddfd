"""The interface every target implements (sqlglot-style: a small plug-in over shared machinery).

A target never raises halfway through emitting: `check` collects everything the target cannot
express as diagnostics first, and `emit` is called only on a plan that passed `check`. The code
package is built once per compile, by the pipeline, and handed to both.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.diagnostics import Diagnostic
from compiler.ir import FlowPlan


@dataclass(frozen=True)
class CodePackageRef:
    """The code package a compiled workflow runs: its bytes (for targets that embed it) and hash."""

    data: bytes
    sha256: str
    url: str | None = None    # where `flowc deploy` stores it (datastore), when known


@dataclass(frozen=True)
class OutputFile:
    name: str                 # file name inside -o DIR, e.g. "helloflow.yaml"
    content: bytes
    stdout: bool = True       # part of what `flowc compile` prints without -o
    # the document(s) `content` serializes, as data: deployers take these, never re-parse `content`
    documents: tuple[Any, ...] = field(default=(), compare=False)


class Target(Protocol):
    name: str
    capabilities: frozenset[str]

    def check(self, plan: FlowPlan, package: CodePackageRef | None = None) -> list[Diagnostic]:
        """Everything this target cannot express, as diagnostics with codes (never raises).
        `package`: the compile's code package, when it could be built (size limits)."""

    def emit(self, plan: FlowPlan, code_package: CodePackageRef) -> list[OutputFile]:
        """The compiled documents, deterministic to the byte."""
