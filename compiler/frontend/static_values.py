"""What the static evaluator (static_eval.py) produces besides plain values, and how it fails:
NotStatic (and ConfigError, a failed config read with its own code), Symbol (a name standing for a
known object), ConfigNode (a value read from a Config, with the config and keys it came from) and
EnvReads (the resolve_env opt-in: the compiling environment and the variables read from it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst


class NotStatic(Exception):
    """The expression needs execution to evaluate. `node` is the offending sub-expression."""

    def __init__(self, reason: str, node: cst.CSTNode):
        super().__init__(reason)
        self.reason = reason
        self.node = node


@dataclass(frozen=True)
class Symbol:
    """A name that stands for a known object rather than a value (e.g. metaflow.JSONType, int)."""

    qualname: str

    def __repr__(self) -> str:
        return self.qualname


class ConfigError(NotStatic):
    """A config read that fails (a missing key, a value of the wrong type): its own code."""

    def __init__(self, code: str, reason: str, node: cst.CSTNode):
        super().__init__(reason, node)
        self.code = code


UNRESOLVED = Symbol("<config not resolved>")   # the value of a config whose error is already reported


@dataclass(frozen=True)
class ConfigNode:
    """A value read from a Config, with where it came from (for errors naming config and key)."""

    config: str                     # the config's name
    source: str                     # its file, or "--config-value" / "default_value"
    keys: tuple[Any, ...]
    value: Any

    def where(self) -> str:
        path = self.config + "".join(f".{k}" if isinstance(k, str) and k.isidentifier() else f"[{k!r}]"
                                     for k in self.keys)
        return f"`{path}` (config '{self.config}' from {self.source})"

    def get(self, key: Any, node: cst.CSTNode, attribute: bool) -> "ConfigNode":
        if self.value is UNRESOLVED:
            raise ConfigError("", "the config could not be resolved (already reported)", node)
        if isinstance(self.value, dict):
            if key in self.value:
                return ConfigNode(self.config, self.source, self.keys + (key,), self.value[key])
            known = ", ".join(sorted(map(str, self.value))) or "none"
            raise ConfigError("FC253", f"{self.where()} has no key {key!r} (keys: {known})", node)
        if isinstance(self.value, (list, str)) and not attribute and isinstance(key, int) \
                and not isinstance(key, bool):
            try:
                return ConfigNode(self.config, self.source, self.keys + (key,), self.value[key])
            except IndexError:
                raise ConfigError("FC253", f"{self.where()} has {len(self.value)} items; index {key} "
                                  "is out of range", node) from None
        what = "." + str(key) if attribute else f"[{key!r}]"
        kind = {"int": "number", "float": "number", "bool": "boolean", "str": "string", "list": "list",
                "NoneType": "null"}.get(type(self.value).__name__, type(self.value).__name__)
        raise ConfigError("FC254", f"{self.where()} is a {kind}, not a mapping: "
                          f"`{what}` cannot be read from it", node)


@dataclass
class EnvReads:
    """The `resolve_env` opt-in: the compiling environment, and the variables read from it."""

    environ: Any                                   # a Mapping[str, str]
    read: dict[str, str | None] = field(default_factory=dict)

    def get(self, name: Any, node: cst.CSTNode, default: Any = None, required: bool = False) -> Any:
        if not isinstance(name, str):
            raise NotStatic("the environment variable's name must be a string", node)
        value = self.environ.get(name)
        self.read[name] = value
        if value is None:
            if required:
                raise ConfigError("FC259", f"environment variable {name} is not set where flowc runs "
                                  "(os.environ[...] needs it; os.environ.get(NAME, default) does not)", node)
            return default
        return value
