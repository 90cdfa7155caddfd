"""Workflow arguments: the text each flow parameter's default becomes in the WorkflowTemplate.

IncludeFile defaults are paths on the compiling machine: like Metaflow, the compiled workflow
carries the file's content (a remote run receives content, docs/runtime-contract.md).
"""
from __future__ import annotations

import json
import os

INCLUDE_LIMIT = 256 * 1024          # an IncludeFile default carried in the workflow arguments


def include_file_content(plan_path: str, p) -> tuple[str | None, str | None]:
    """(content, problem) of an IncludeFile default, read relative to the flow's directory."""
    path = os.path.join(os.path.dirname(os.path.abspath(plan_path)), str(p.default))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, f"IncludeFile {p.name!r}: cannot read its default {p.default!r}: {e.strerror}"
    if len(data) > INCLUDE_LIMIT:
        return None, (f"IncludeFile {p.name!r}: {p.default!r} is {len(data)} bytes, "
                      f"more than {INCLUDE_LIMIT} fit in a workflow argument")
    try:
        return data.decode(p.encoding or "utf-8"), None
    except (UnicodeDecodeError, LookupError):
        return None, f"IncludeFile {p.name!r}: {p.default!r} is not text; a workflow argument carries text only"


def parameter_value(p, plan_path: str = "") -> str | None:
    """Workflow argument default: strings as given, JSON as text, None stays absent.

    IncludeFile defaults are paths on the compiling machine: like Metaflow, the compiled workflow
    carries the file's content (a remote run receives content, docs/runtime-contract.md)."""
    if p.kind == "include_file":
        return include_file_content(plan_path, p)[0] if p.has_default and p.default else None
    if not p.has_default or p.default is None or p.required:
        return None
    value = p.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)
