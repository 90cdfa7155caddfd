"""Diagnostics are data: a code, a severity, a span and a message. Rendering lives in render.py."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A source range: lines and columns are 1-based, end is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(line: int, col: int = 1) -> "Span":
        return Span(line, col, line, col + 1)


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str                                   # stable, e.g. "FC101"; documented in codes.py
    severity: str                               # ERROR | WARNING
    message: str
    span: Span | None                           # None: about the file as a whole
    path: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)   # extra lines ("first defined at line 6")

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def has_errors(diagnostics) -> bool:
    return any(d.is_error for d in diagnostics)
