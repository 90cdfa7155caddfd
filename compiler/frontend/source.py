"""The source file: text, line lookup, and cheap positions for the libcst nodes that need them.

libcst's PositionProvider computes a range for every node of a module, which costs more than
parsing on a large flow. `positions()` runs one code generation pass that tracks line and
column but records ranges only for the nodes asked for.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable

from compiler.frontend.model import Span


@dataclass
class SourceFile:
    path: str
    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def line(self, n: int) -> str:
        """The text of 1-based line n ('' when out of range)."""
        if 1 <= n <= len(self.lines):
            return self.lines[n - 1]
        return ""

    @property
    def num_lines(self) -> int:
        return max(1, len(self.lines))

    def clamp(self, span: Span | None) -> Span | None:
        """A span whose line is inside the file (for diagnostics on truncated sources)."""
        if span is None:
            return None
        line = min(max(1, span.line), self.num_lines)
        if line != span.line:
            return Span.point(line, 1)
        return span


def read_source(path: str) -> SourceFile:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = decode(data)
    except SourceDecodeError:
        text = data.decode("utf-8", errors="replace")
    return SourceFile(path=str(path), text=text)


class SourceDecodeError(ValueError):
    """The bytes are not text in the encoding Python would read them with (PEP 263)."""


def decode(data: bytes) -> str:
    """The text of a Python file as Python reads it: UTF-8 unless a BOM or a PEP 263 coding
    cookie (`# -*- coding: latin-1 -*-`) in the first two lines says otherwise."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:    # an unknown encoding, or a cookie that contradicts a BOM
        raise SourceDecodeError(str(exc.msg if hasattr(exc, "msg") else exc)) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceDecodeError(f"cannot decode as {encoding}: {exc.reason} at byte {exc.start}") from None
    except LookupError as exc:
        raise SourceDecodeError(str(exc)) from None
    return text[1:] if text.startswith("\ufeff") else text


def python_refusal(text: str, path: str = "<string>") -> tuple[str, int, int] | None:
    """(message, line, column) when Python itself would refuse to compile `text`, else None.

    libcst accepts some sources that `compile()` refuses (a NUL byte, `return` outside a
    function, `nonlocal` at module level, ...); such a flow would pass every check and then fail
    on import in the container, so flowc refuses what Python refuses."""
    import warnings

    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        col = nul - (text.rfind("\n", 0, nul) + 1) + 1
        return "source code cannot contain a null byte (U+0000)", line, col
    try:
        with warnings.catch_warnings():      # e.g. invalid escape sequences: not ours to print
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as exc:           # IndentationError and TabError included
        return str(exc.msg), max(1, exc.lineno or 1), max(1, exc.offset or 1)
    except (ValueError, MemoryError, RecursionError, OverflowError) as exc:
        return f"{type(exc).__name__}: {exc}", 1, 1
    return None


def span_union(a: Span, b: Span) -> Span:
    start = min((a.line, a.col), (b.line, b.col))
    end = max((a.end_line, a.end_col), (b.end_line, b.end_col))
    return Span(start[0], start[1], end[0], end[1])


def _make_state_class():
    from libcst._nodes.internal import CodegenState

    class _PositionState(CodegenState):
        """Tracks line/column while generating code; records spans only for wanted nodes."""

        def __init__(self, default_indent, default_newline, wanted):
            super().__init__(default_indent=default_indent, default_newline=default_newline)
            self.wanted = wanted            # id(node) -> node
            self.found: dict[int, Span] = {}
            self.line = 1
            self.column = 0
            self._stack: list[tuple[int, int] | None] = []

        def _update(self, value: str) -> None:
            if "\n" in value or "\r" in value:
                parts = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
                self.line += len(parts) - 1
                self.column = len(parts[-1])
            else:
                self.column += len(value)

        def add_indent_tokens(self) -> None:
            self.tokens.extend(self.indent_tokens)
            for tok in self.indent_tokens:
                self.column += len(tok)

        def add_token(self, value: str) -> None:
            self.tokens.append(value)
            self._update(value)

        def before_codegen(self, node) -> None:
            pass

        def after_codegen(self, node) -> None:
            pass

        @contextmanager
        def record_syntactic_position(self, node, *, start_node=None, end_node=None):
            if id(node) not in self.wanted:
                yield
                return
            start = (self.line, self.column)
            try:
                yield
            finally:
                end = (self.line, self.column)
                if start_node is not None and id(start_node) in self.found:
                    s = self.found[id(start_node)]
                    start = (s.line, s.col - 1)
                if end_node is not None and id(end_node) in self.found:
                    e = self.found[id(end_node)]
                    end = (e.end_line, e.end_col - 1)
                self.found[id(node)] = Span(start[0], start[1] + 1, end[0], end[1] + 1)

    return _PositionState


_STATE_CLASS = None


def positions(module, nodes: Iterable) -> dict[int, Span]:
    """Spans (1-based lines and columns) of `nodes` inside `module`, keyed by id(node).

    Nodes that record no syntactic position (rare: whitespace-only nodes) are absent.
    """
    global _STATE_CLASS
    if _STATE_CLASS is None:
        _STATE_CLASS = _make_state_class()
    wanted = {id(n): n for n in nodes}
    # Nodes whose own codegen records no syntactic position: also track their children's.
    state = _STATE_CLASS(module.default_indent, module.default_newline, wanted)
    _mark_generic(wanted)
    module._codegen(state)
    missing = [n for i, n in wanted.items() if i not in state.found]
    if missing:
        _fallback(module, missing, state.found)
    return state.found


def _mark_generic(wanted: dict) -> None:
    return None


def _fallback(module, missing, found) -> None:
    """Spans of nodes that never call record_syntactic_position: use libcst's own provider."""
    try:
        from libcst.metadata import MetadataWrapper, PositionProvider

        pos = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for n in missing:
            r = pos.get(n)
            if r is not None:
                found[id(n)] = Span(r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)
    except Exception:  # pragma: no cover - positions are best effort
        pass
