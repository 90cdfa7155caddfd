"""Workflow arguments: the text each flow parameter's default becomes in the WorkflowTemplate.

IncludeFile defaults are paths on the compiling machine: like Metaflow, the compiled workflow
carries the file's content (a remote run receives content, docs/runtime-contract.md). A file too
large for a workflow argument (INLINE_LIMIT), or not text, is carried by the code package instead
(it always is): the argument then names it, `flowc-packaged-file:PATH`
(runtime_shim.params.PACKAGED_FILE), and a submission may still pass other content.
"""
from __future__ import annotations

import json
import os

INLINE_LIMIT = 64 * 1024    # IncludeFile content inlined in an argument (one argv string <= 128 KiB)


def include_file_content(plan_path: str, p) -> tuple[str | None, str | None]:
    """(content, problem) of an IncludeFile default, read relative to the flow's directory."""
    path = os.path.join(os.path.dirname(os.path.abspath(plan_path)), str(p.default))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, f"IncludeFile {p.name!r}: cannot read its default {p.default!r}: {e.strerror}"
    if len(data) > INLINE_LIMIT or not p.is_text:
        return _packaged(p), None
    try:
        return data.decode(p.encoding or "utf-8"), None
    except UnicodeDecodeError:
        return None, (f"IncludeFile {p.name!r}: {p.default!r} is not {p.encoding or 'utf-8'} text "
                      "(is_text=False reads bytes)")
    except LookupError:
        return None, f"IncludeFile {p.name!r}: unknown encoding {p.encoding!r}"


def _packaged(p) -> str:
    from runtime_shim.params import PACKAGED_FILE

    return PACKAGED_FILE + str(p.default).replace(os.sep, "/")


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
