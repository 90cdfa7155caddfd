"""The interface every target implements (sqlglot-style: a small plug-in over shared machinery).

A target never raises halfway through emitting: `check` collects everything the target cannot
express as diagnostics first, and `emit` is called only on a plan that passed `check`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from compiler.diagnostics import Diagnostic
from compiler.ir import FlowPlan


@dataclass(frozen=True)
class OutputFile:
    name: str                 # file name inside -o DIR, e.g. "helloflow.yaml"
    content: bytes
    stdout: bool = True       # part of what `flowc compile` prints without -o


class Target(Protocol):
    name: str
    capabilities: frozenset[str]

    def check(self, plan: FlowPlan) -> list[Diagnostic]:
        """Everything this target cannot express, as diagnostics with codes (never raises)."""

    def emit(self, plan: FlowPlan, code_package: "CodePackageRef") -> list[OutputFile]:
        """The compiled documents, deterministic to the byte."""


@dataclass(frozen=True)
class CodePackageRef:
    """The code package a compiled workflow runs: its bytes (for targets that embed it) and hash."""

    data: bytes
    sha256: str
    url: str | None = None    # where `flowc deploy` stores it (datastore), when known
