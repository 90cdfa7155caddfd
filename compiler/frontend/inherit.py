"""Flow classes defined in a module beside the flow: `from baseflow import BaseFlow` and then
`class MyFlow(BaseFlow)`. Metaflow's flows inherit steps, parameters, configs and flow decorators
from such bases like from a base in the same file; the front end reads the base module with
libcst (never importing it) and the parser walks its class with that module's own names.

A ForeignClass keeps what reading its body needs: the module's metaflow names (imports.Names),
its static scope, its file, and the node in the flow's file that names the base (the place a
diagnostic about an inherited definition points to, with a note naming the base file's line).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from compiler.frontend import deps
from compiler.frontend.imports import Names
from compiler.frontend.static_eval import Scope, dotted

MAX_DEPTH = 5


@dataclass
class ForeignClass:
    cls: cst.ClassDef
    module: cst.Module
    path: str
    names: Names
    scope: Scope
    ref: cst.CSTNode                         # the base's name in the flow's file
    nodes: list[Any] = field(default_factory=list)   # nodes of this module a diagnostic may need


def _module_classes(module: cst.Module) -> dict[str, cst.ClassDef]:
    return {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}


class ForeignFlows:
    """Resolves base classes named from sibling modules, recursively (bases of bases, in their
    own modules), and caches parsed modules."""

    def __init__(self):
        self.modules: dict[str, tuple[cst.Module, Names, Scope] | None] = {}
        self.by_class: dict[int, ForeignClass] = {}     # id(ClassDef) -> its context

    def _load(self, path: str):
        if path not in self.modules:
            try:
                module = cst.parse_module(deps.read_text(path))
                self.modules[path] = (module, Names(module),
                                      Scope.from_module(module, os.path.dirname(path), depth=1, file=path))
            except Exception:  # noqa: BLE001 - an unreadable base is reported as no flow (FC003)
                self.modules[path] = None
        return self.modules[path]

    def resolve(self, base: cst.BaseExpression, scope: Scope, ref: cst.CSTNode,
                depth: int = 0) -> list[tuple[str, cst.ClassDef]] | None:
        """The chain [(key, ClassDef), ...] (bases first) of a flow class `base` names through an
        import of `scope`'s module, or None when it names none."""
        if depth >= MAX_DEPTH:
            return None
        d = dotted(base)
        if d is None:
            return None
        top, _, rest = d.partition(".")
        if top not in scope.imports:
            return None
        module, attr, level = scope.imports[top]
        if attr is not None and not rest:            # from baseflow import BaseFlow
            path, name = scope.sibling_path(module, level), attr
        elif attr is None and rest and "." not in rest:   # import baseflow; baseflow.BaseFlow
            path, name = scope.sibling_path(module, level), rest
        else:
            return None
        loaded = self._load(path) if path else None
        if loaded is None:
            return None
        return self._chain(path, name, loaded, ref, depth)

    def _chain(self, path, name, loaded, ref, depth, seen=None):
        module, names, scope = loaded
        classes = _module_classes(module)
        cls = classes.get(name)
        if cls is None:        # re-exported (a package's __init__: `from .baseflow import BaseFlow`)
            return self.resolve(cst.Name(name), scope, ref, depth + 1) if name in scope.imports else None
        seen = (seen or set()) | {(path, name)}
        chain: list[tuple[str, cst.ClassDef]] = []
        is_flow = False
        for arg in cls.bases:
            canon, origin = names.resolve(arg.value)
            if canon == "FlowSpec" and origin == "metaflow":
                is_flow = True
                continue
            sub = None
            if isinstance(arg.value, cst.Name) and arg.value.value in classes and \
                    (path, arg.value.value) not in seen:
                sub = self._chain(path, arg.value.value, loaded, ref, depth, seen)
            elif isinstance(arg.value, (cst.Name, cst.Attribute)):
                sub = self.resolve(arg.value, scope, ref, depth + 1)
            if sub:
                is_flow = True
                chain.extend(c for c in sub if c not in chain)
        if not is_flow:
            return None
        self.by_class[id(cls)] = ForeignClass(cls, module, path, names, scope, ref)
        key = "%s:%s" % (path, name)
        chain.append((key, cls))
        return chain
