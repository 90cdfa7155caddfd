"""Render diagnostics: text (with the source line and a caret), JSON, GitHub annotations."""
from __future__ import annotations

import json


def _line(source_text: str | None, n: int) -> str:
    if not source_text:
        return ""
    lines = source_text.splitlines()
    return lines[n - 1] if 1 <= n <= len(lines) else ""


def render_text(diags, sources: dict[str, str] | None = None) -> str:
    out = []
    for d in diags:
        s = d.span
        loc = f"{d.path}:{s.line}:{s.col}" if s else f"{d.path}"
        sev = "" if d.severity == "error" else f" [{d.severity}]"
        out.append(f"{loc}: {d.code}{sev} {d.message}")
        if s is not None:
            text = _line((sources or {}).get(d.path), s.line)
            if text:
                out.append("    " + text.rstrip("\n"))
                width = (s.end_col - s.col) if s.end_line == s.line and s.end_col > s.col else 1
                width = max(1, min(width, max(1, len(text) - s.col + 1)))
                out.append("    " + " " * (s.col - 1) + "^" + "~" * (width - 1))
        for note in d.notes:
            out.append(f"    note: {note}")
    return "\n".join(out) + ("\n" if out else "")


def to_dict(d) -> dict:
    s = d.span
    return {"path": d.path, "code": d.code, "severity": d.severity, "message": d.message,
            "line": s.line if s else None, "col": s.col if s else None,
            "end_line": s.end_line if s else None, "end_col": s.end_col if s else None,
            "notes": list(d.notes)}


def render_json(diags) -> str:
    return json.dumps([to_dict(d) for d in diags], indent=2) + "\n"


def _esc(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _esc_prop(text: str) -> str:
    return _esc(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diags) -> str:
    out = []
    for d in diags:
        level = "error" if d.severity == "error" else "warning"
        props = [f"file={_esc_prop(d.path)}"]
        if d.span:
            props += [f"line={d.span.line}", f"col={d.span.col}"]
        props.append(f"title={_esc_prop(d.code)}")
        out.append(f"::{level} {','.join(props)}::{_esc(d.message)}")
    return "\n".join(out) + ("\n" if out else "")


def render(diags, fmt: str = "text", sources: dict[str, str] | None = None) -> str:
    """One entry point for every command: fmt is "text", "json" or "github"."""
    if fmt == "json":
        return render_json(diags)
    if fmt == "github":
        return render_github(diags)
    return render_text(diags, sources)
