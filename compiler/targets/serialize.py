"""The only place that turns manifests into text: one YAML policy and one JSON policy (as Hera keeps
its YAML output policy in one module). Manifests are built as plain dicts/lists; key order is the
order they were built in, so output is deterministic without sorting away the natural field order.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any, Iterable


def _str_representer(dumper: Any, value: str):
    style = "|" if "\n" in value and all(ch.isprintable() or ch == "\n" for ch in value) and not value.endswith(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


@functools.lru_cache(maxsize=1)
def _dumpers() -> tuple[Any, Any]:
    """(Python dumper, LibYAML dumper or None), built on first use: importing yaml is a tenth of a
    warm `flowc compile`, and JSON-only targets never need it.

    The Python one: block style, no aliases, long lines kept whole, multi-line strings as literal
    blocks. LibYAML's C emitter is for documents whose every string is a plain token (the Argo code
    ConfigMap: names, labels and ~100 KB of base64, where the pure-Python emitter spends ~70 ms
    scanning the base64 one character at a time). For such strings both emitters write the same
    bytes; the C one differs elsewhere (quoted keys, astral characters), so everything else keeps
    the Python emitter."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    _Dumper.add_representer(str, _str_representer)
    c_dumper: Any = None
    if getattr(yaml, "__with_libyaml__", False):
        class _LibYamlDumper(yaml.CSafeDumper):
            def ignore_aliases(self, data: Any) -> bool:
                return True

        _LibYamlDumper.add_representer(str, _str_representer)
        c_dumper = _LibYamlDumper
    return _Dumper, c_dumper


_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._/=+-]+\Z")


def _plain_tokens_only(value: Any) -> bool:
    if isinstance(value, str):
        return _PLAIN_TOKEN.match(value) is not None
    if isinstance(value, dict):
        return all(_plain_tokens_only(k) and _plain_tokens_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_tokens_only(v) for v in value)
    return value is None or type(value) in (bool, int)


def to_yaml(document: Any) -> str:
    import yaml

    python_dumper, c_dumper = _dumpers()
    dumper = c_dumper if c_dumper is not None and _plain_tokens_only(document) else python_dumper
    return yaml.dump(document, Dumper=dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 16)


def to_yaml_stream(documents: Iterable[Any]) -> str:
    return "---\n".join(to_yaml(d) for d in documents)


def to_json(document: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(document, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"


def to_json_within(document: Any, max_bytes: int) -> str:
    """Indented JSON for review, or compact JSON when the indented form would not fit a service
    limit: the file is then deployable byte for byte (deep nesting costs indentation per level)."""
    text = to_json(document)
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n"
