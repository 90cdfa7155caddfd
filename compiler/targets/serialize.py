"""The only place that turns manifests into text: one YAML policy and one JSON policy (as Hera keeps
its YAML output policy in one module). Manifests are built as plain dicts/lists; key order is the
order they were built in, so output is deterministic without sorting away the natural field order.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import yaml


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, long lines kept whole, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value and all(ch.isprintable() or ch == "\n" for ch in value) and not value.endswith(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def to_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 16)


def to_yaml_stream(documents: Iterable[Any]) -> str:
    return "---\n".join(to_yaml(d) for d in documents)


def to_json(document: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(document, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"
