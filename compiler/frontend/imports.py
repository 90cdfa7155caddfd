"""How a flow file refers to other code, read with libcst: which local names are metaflow's
(however it is imported or aliased), and which sibling modules the flow imports (for the code
package). Nothing is imported.
"""
from __future__ import annotations

import os

import libcst as cst

from compiler.frontend import deps
from compiler.frontend.static_eval import dotted


class Names:
    """How the file refers to metaflow: local name -> canonical metaflow name, module aliases."""

    def __init__(self, module: cst.Module):
        self.names: dict[str, str] = {}          # local -> metaflow attribute name
        self.modules: set[str] = set()           # local names bound to the metaflow module
        self.star = False
        self.defined: set[str] = set()           # names bound in the file some other way
        for stmt in module.body:
            self._scan(stmt)

    def _scan(self, stmt) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                    mod = dotted(small.module) or ""
                    is_mf = mod == "metaflow" or mod.startswith("metaflow.")
                    if isinstance(small.names, cst.ImportStar):
                        if is_mf:
                            self.star = True
                        continue
                    for alias in small.names:
                        name = dotted(alias.name) or ""
                        local = (alias.asname.name.value if alias.asname is not None and
                                 isinstance(alias.asname.name, cst.Name) else name)
                        if is_mf:
                            self.names[local] = name
                        else:
                            self.defined.add(local)
                elif isinstance(small, cst.ImportFrom):
                    if not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            local = (alias.asname.name.value if alias.asname is not None and
                                     isinstance(alias.asname.name, cst.Name) else dotted(alias.name) or "")
                            self.defined.add(local)
                elif isinstance(small, cst.Import):
                    for alias in small.names:
                        full = dotted(alias.name) or ""
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            local = alias.asname.name.value
                            if full == "metaflow":
                                self.modules.add(local)
                            else:
                                self.defined.add(local)
                        else:
                            top = full.split(".")[0]
                            if top == "metaflow":
                                self.modules.add("metaflow")
                            else:
                                self.defined.add(top)
                elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    for t in targets:
                        if isinstance(t.target, cst.Name):
                            self.defined.add(t.target.value)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.defined.add(stmt.name.value)
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            from compiler.frontend.static_eval import _bound_names
            for n in _bound_names(stmt):
                self.defined.add(n)
                # `try: from metaflow import x` : best effort
            for sub in inner_statements(stmt):
                self._scan(sub)

    def resolve(self, expr) -> tuple[str | None, str]:
        """(canonical metaflow name or None, origin) for a decorator/base/call expression.

        origin: "metaflow" (resolved), "other" (defined or imported from elsewhere), "missing".
        """
        if isinstance(expr, cst.Name):
            local = expr.value
            if local in self.names:
                return self.names[local], "metaflow"
            if local in self.defined:
                return None, "other"
            if self.star:
                return local, "metaflow"
            return None, "missing"
        if isinstance(expr, cst.Attribute):
            base = dotted(expr.value)
            if base is not None and (base in self.modules or
                                     (base.split(".")[0] in self.modules and base.startswith("metaflow"))):
                return expr.attr.value, "metaflow"
            if base is not None and base.split(".")[0] in self.defined:
                return None, "other"
            return None, "missing" if base is not None else "other"
        return None, "other"


def inner_statements(stmt):
    """The statements nested in an if/try/with (every branch)."""
    out = []
    for attr in ("body", "orelse", "finalbody"):
        block = getattr(stmt, attr, None)
        if block is None:
            continue
        if isinstance(block, (cst.Else, cst.Finally)):
            block = block.body
        if isinstance(block, cst.If):
            out.extend(inner_statements(block))
            continue
        body = getattr(block, "body", None)
        if isinstance(body, (list, tuple)):
            out.extend(body)
    for h in getattr(stmt, "handlers", ()) or ():
        out.extend(getattr(h.body, "body", ()))
    return out


def local_modules(module: cst.Module, flow_path: str, directory: str | None) -> list[str]:
    """Sibling modules and packages the flow imports (relative paths, followed 5 levels deep):
    what the code package must carry besides the flow file."""
    if directory is None:
        return []
    found: list[str] = []
    seen_files: set[str] = set()

    def modules_of(module_node) -> list[tuple[str, int]]:
        out = []
        stmts = list(module_node.body)
        for s in list(stmts):
            if isinstance(s, cst.ClassDef):
                for m in s.body.body:
                    if isinstance(m, cst.FunctionDef) and isinstance(m.body, cst.IndentedBlock):
                        stmts.extend(m.body.body)
            elif isinstance(s, cst.FunctionDef) and isinstance(s.body, cst.IndentedBlock):
                stmts.extend(s.body.body)
            elif isinstance(s, (cst.If, cst.Try)):
                stmts.extend(inner_statements(s))
        for s in stmts:
            if isinstance(s, cst.SimpleStatementLine):
                for small in s.body:
                    if isinstance(small, cst.Import):
                        for alias in small.names:
                            d = dotted(alias.name)
                            if d:
                                out.append((d, 0))
                    elif isinstance(small, cst.ImportFrom) and small.module is not None:
                        d = dotted(small.module)
                        if d:
                            out.append((d, len(small.relative)))
                    elif isinstance(small, cst.ImportFrom) and small.relative and \
                            not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            d = dotted(alias.name)
                            if d:
                                out.append((d, len(small.relative)))
        return out

    def visit(module_node, directory, depth):
        for mod, level in modules_of(module_node):
            if level > 1:
                continue
            top = mod.split(".")[0]
            base = os.path.join(directory, top)
            rel = None
            if deps.isfile(base + ".py"):
                path = base + ".py"
            elif deps.isfile(os.path.join(base, "__init__.py")):
                path = os.path.join(base, "__init__.py")
            else:
                continue
            rel = os.path.relpath(path if path.endswith(top + ".py") else base, root)   # from the flow's folder
            if os.path.abspath(path) == os.path.abspath(flow_path):
                continue
            if rel in seen_files:
                continue
            seen_files.add(rel)
            found.append(rel.replace(os.sep, "/"))
            if depth < 5 and path.endswith(".py"):
                try:
                    sub = cst.parse_module(deps.read_text(path))
                    visit(sub, os.path.dirname(path), depth + 1)
                except Exception:
                    pass

    root = directory
    visit(module, directory, 0)
    return found
