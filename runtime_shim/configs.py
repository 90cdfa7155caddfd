"""Config values inside a task: the values the compiler resolved, from the runtime spec.

The compiler resolves every `Config` when it compiles (compiler/frontend/configs.py) and writes
the value into the runtime spec as the config's default (a parameter of kind "config"). A task
never reads a config file: it gets the same values the compiler used, whatever its working
directory. `register(spec)` runs before the flow is imported, so the decorator arguments that read
a config while the class body runs (`@resources(cpu=cfg.cpu)`, `config_expr("cfg.x")`) get real
values; in steps `self.cfg` is the stored artifact, a ConfigValue (or the value itself when
plain=True). Stdlib only.
"""
from __future__ import annotations

import json

_VALUES: dict = {}        # config name -> value, as resolved by the compiler (register)


class ConfigValue(dict):
    """A read-only mapping with attribute access, as Metaflow's ConfigValue: `cfg.a.b`,
    `cfg["a"]["b"]`; nested mappings (also inside lists) are ConfigValues too. It is a dict, so
    it compares equal to one and serializes as JSON."""

    def __init__(self, data=(), **kwargs):
        dict.__init__(self, {k: _wrap(v) for k, v in dict(data, **kwargs).items()})

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError("config has no key %r (keys: %s)" % (name, ", ".join(sorted(map(str, self))))) from None

    def _immutable(self, *args, **kwargs):
        raise TypeError("ConfigValue is immutable")

    __setitem__ = __delitem__ = __setattr__ = __delattr__ = _immutable
    clear = pop = popitem = setdefault = update = _immutable

    def to_dict(self):
        return json.loads(json.dumps(self))

    def __reduce__(self):
        return (ConfigValue, (self.to_dict(),))


def _wrap(value):
    if isinstance(value, dict) and not isinstance(value, ConfigValue):
        return ConfigValue(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def value_of(p, value):
    """What a step sees for config declaration `p` (a runtime spec parameter dict)."""
    if value is None or p.get("plain"):
        return value
    return ConfigValue(value) if isinstance(value, dict) else value


def register(spec):
    """Make the spec's config values known before the flow's class body runs."""
    _VALUES.clear()
    for p in spec.get("parameters", []):
        if p.get("kind") == "config":
            _VALUES[p["name"]] = value_of(p, p.get("default"))


def lookup(name):
    """The registered value of config `name`; KeyError when it is not registered."""
    return _VALUES[name]


def evaluate(expr, globals_=None):
    """config_expr(expr) while a task imports the flow: the expression over the configs by name,
    as Metaflow evaluates it (the compiler already evaluated it the same way, statically)."""
    return eval(expr, dict(globals_ or {}), dict(_VALUES))  # noqa: S307 - the flow's own expression
