"""Static evaluation of decorator and Parameter arguments, read from libcst nodes.

Supported: literals, containers, unary/binary arithmetic, boolean operators, comparisons,
conditional expressions, f-strings of constants, implicit string concatenation, module-level
constants (assigned once at module level), `dict(...)`, `**CONST` in calls, names imported from
sibling modules of the flow (parsed with libcst, never imported), and well-known metaflow names
such as `JSONType`. Metaflow Configs resolved at compile time (configs.py) are values too:
`cfg.a.b`, `cfg["a"]`, `config_expr("cfg.a")` (ConfigNode keeps which config and key a value
came from, for the errors). With the `resolve_env` opt-in, `os.getenv("X")`, `os.environ["X"]`
and `os.environ.get("X", d)` read the compiling environment (EnvReads records them).
Everything else raises NotStatic carrying the offending node.
"""
from __future__ import annotations

import operator
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst

from compiler.frontend import deps
from compiler.frontend.model import FunctionRef
from compiler.frontend.static_values import (  # noqa: F401  (re-exported: the evaluator's API)
    UNRESOLVED,
    ConfigError,
    ConfigNode,
    EnvReads,
    NotStatic,
    Symbol,
)

BUILTIN_SYMBOLS = {"int": "int", "float": "float", "str": "str", "bool": "bool",
                   "dict": "dict", "list": "list"}
METAFLOW_SYMBOLS = {"JSONType", "FlowSpec", "Parameter", "IncludeFile", "Config", "current",
                    "step", "config_expr"}

_BINOPS = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
    cst.Power: operator.pow, cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift,
    cst.BitOr: operator.or_, cst.BitAnd: operator.and_, cst.BitXor: operator.xor,
}
_CMPOPS = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge, cst.In: lambda a, b: a in b,
    cst.NotIn: lambda a, b: a not in b, cst.Is: operator.is_, cst.IsNot: operator.is_not,
}


def _safe_pow(a, b):
    if isinstance(b, (int, float)) and abs(b) > 256:
        raise OverflowError("exponent too large")
    return operator.pow(a, b)


@dataclass
class Scope:
    """Module-level names of one file: constants (as nodes) and imports."""

    directory: str | None
    assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)   # assigned exactly once
    reassigned: set[str] = field(default_factory=set)
    imports: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    # local name -> (module, attribute or None, relative level)
    functions: set[str] = field(default_factory=set)
    defs: set[str] = field(default_factory=set)          # the `def`s among them
    _cache: dict[str, Any] = field(default_factory=dict)
    _modules: dict[str, "Scope | None"] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)
    depth: int = 0
    config_refs: dict[str, ConfigNode] = field(default_factory=dict)    # bare names (class body)
    config_names: dict[str, ConfigNode] = field(default_factory=dict)   # config_expr's names
    config_attrs: dict[str, str] = field(default_factory=dict)          # class attribute -> config name
    env: EnvReads | None = None                                         # resolve_env opt-in
    file: str | None = None                      # the module's file, absolute: its `__file__`
    def_nodes: dict[str, cst.FunctionDef] = field(default_factory=dict)  # static_calls follows them
    calls: int = 0                               # nested function calls being followed
    # the flow class body's own constants (`NUM_GPUS = 8`), which its decorators see first
    class_assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)
    _class_cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_module(cls, module: cst.Module, directory: str | None, depth: int = 0,
                    file: str | None = None) -> "Scope":
        scope = cls(directory=directory, depth=depth, file=file)
        for stmt in module.body:
            scope._collect(stmt)
        return scope

    def for_call(self) -> "Scope":
        """The scope of a module-level function's body (static_calls): the module's names, and
        locals bound in order (bind) ahead of them."""
        return Scope(directory=self.directory, assigns=self.assigns, reassigned=self.reassigned,
                     imports=dict(self.imports), functions=self.functions, defs=self.defs,
                     _modules=self._modules, depth=self.depth, env=self.env, file=self.file,
                     def_nodes=self.def_nodes, calls=self.calls + 1)

    def bind(self, name: str, value: Any) -> None:
        self._cache[name] = value

    def collect_import(self, small: cst.Import | cst.ImportFrom) -> None:
        self._collect(cst.SimpleStatementLine(body=[small]))
        for name in _bound_names(small):
            self._cache.pop(name, None)

    def _collect(self, stmt) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        self._assign(target.target, small.value)
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    self._assign(small.target, small.value)
                elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                    self.reassigned.add(small.target.value)
                elif isinstance(small, cst.ImportFrom):
                    self._import_from(small)
                elif isinstance(small, cst.Import):
                    for alias in small.names:
                        full = dotted(alias.name)
                        if full is None:
                            continue
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            self.imports[alias.asname.name.value] = (full, None, 0)
                        else:
                            top = full.split(".")[0]
                            self.imports[top] = (top, None, 0)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.functions.add(stmt.name.value)
            if isinstance(stmt, cst.FunctionDef):
                self.defs.add(stmt.name.value)
                self.def_nodes[stmt.name.value] = stmt
            self.reassigned.add(stmt.name.value)
        elif _is_import_fallback(stmt):
            # `try: import tomllib; PARSER = "tomllib.loads"` / `except ImportError: ...`: the
            # compile reads what the `try` body binds (a current Python has the module)
            for inner in stmt.body.body:
                self._collect(inner)
        elif isinstance(stmt, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
            # names bound inside compound statements are not static constants
            for name in _bound_names(stmt):
                self.reassigned.add(name)

    def _assign(self, target, value) -> None:
        if isinstance(target, cst.Name):
            name = target.value
            if name in self.assigns or name in self.imports:
                self.reassigned.add(name)
            self.assigns[name] = value
        else:
            for n in _target_names(target):
                self.reassigned.add(n)

    def _import_from(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        module = dotted(node.module) if node.module is not None else ""
        if module is None or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = alias.asname.name.value if (alias.asname is not None and
                                                isinstance(alias.asname.name, cst.Name)) else name
            self.imports[local] = (module, name, level)

    # --- sibling modules -------------------------------------------------------------------
    def sibling_path(self, module: str, level: int) -> str | None:
        """The file of a module beside the flow (level 0 or 1 relative imports only)."""
        if self.directory is None or level > 1 or not module:
            return None
        base = os.path.join(self.directory, *module.split("."))
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if deps.isfile(candidate):
                return candidate
        return None

    def sibling_scope(self, module: str, level: int) -> "Scope | None":
        key = f"{level}:{module}"
        if key in self._modules:
            return self._modules[key]
        result = None
        path = self.sibling_path(module, level)
        if path is not None and self.depth < 8:
            try:
                mod = cst.parse_module(deps.read_text(path))
                result = Scope.from_module(mod, os.path.dirname(path), self.depth + 1,
                                           file=os.path.abspath(path))
            except Exception:
                result = None
        self._modules[key] = result
        return result

    # --- evaluation ------------------------------------------------------------------------
    def lookup(self, name: str, node: cst.CSTNode) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name in self.class_assigns:
            return self._class_constant(name, node)
        if name in self.imports:
            module, attr, level = self.imports[name]
            if name not in self.assigns or name in self.reassigned:
                value = self._imported(name, module, attr, level, node)
                self._cache[name] = value
                return value
        if name in self.assigns and name not in self.reassigned:
            return self._constant(name, name, self.assigns[name], f"`{name}`", self._cache, node)
        if name in self.defs and name not in self.assigns and name not in self.imports:
            return FunctionRef(name)
        if name == "__file__" and self.file is not None:
            return self.file
        if name in self.reassigned:
            raise NotStatic(f"`{name}` is assigned more than once or inside a block, so its "
                            "value is only known when the flow runs", node)
        if name in BUILTIN_SYMBOLS:
            return Symbol(BUILTIN_SYMBOLS[name])
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        raise NotStatic(f"`{name}` is not a module-level constant", node)

    def _class_constant(self, name: str, node: cst.CSTNode) -> Any:
        if name in self._class_cache:
            return self._class_cache[name]
        return self._constant("class " + name, name, self.class_assigns[name], f"class attribute `{name}`",
                              self._class_cache, node)

    def _constant(self, key: str, name: str, expr: cst.BaseExpression, what: str, cache: dict,
                  node: cst.CSTNode) -> Any:
        """Evaluate a name's one assignment, once (`cache`), refusing a definition in terms of itself."""
        if key in self._evaluating:
            raise NotStatic(f"`{name}` is defined in terms of itself", node)
        self._evaluating.add(key)
        try:
            value = evaluate(expr, self)
        except NotStatic as exc:
            raise NotStatic(f"{what} is not a constant: {exc.reason}", node) from None
        finally:
            self._evaluating.discard(key)
        cache[name] = value
        return value

    def _imported(self, name, module, attr, level, node):
        top = module.split(".")[0] if module else ""
        if top == "metaflow" and level == 0:
            return Symbol(f"{module}.{attr}" if attr else module)
        if attr is None:
            return Symbol(module)
        sib = self.sibling_scope(module, level)
        if sib is None:
            raise NotStatic(f"`{name}` comes from module `{'.' * level}{module}`, which is not a "
                            "module beside the flow that flowc can read", node)
        try:
            return sib.lookup(attr, node)
        except NotStatic as exc:
            raise NotStatic(f"`{name}` from `{'.' * level}{module}`: {exc.reason}", node) from None


_IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")


def _is_import_fallback(stmt) -> bool:
    """A `try` of imports and assignments whose handlers catch only ImportError (the idiom for
    an optional module): no `else`/`finally`, nothing but simple statements in the body."""
    if not isinstance(stmt, cst.Try) or stmt.orelse is not None or stmt.finalbody is not None \
            or not stmt.handlers or not isinstance(stmt.body, cst.IndentedBlock):
        return False
    for handler in stmt.handlers:
        kinds = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
        names = [dotted(k.value if isinstance(k, cst.Element) else k) for k in kinds if k is not None]
        if not names or any(n not in _IMPORT_ERRORS for n in names):
            return False
    return all(isinstance(s, cst.SimpleStatementLine) and
               all(isinstance(x, (cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign, cst.Pass, cst.Expr))
                   for x in s.body) for s in stmt.body.body)


def dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _target_names(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        out = []
        for el in target.elements:
            out.extend(_target_names(el.value))
        return out
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _bound_names(stmt) -> list[str]:
    names: list[str] = []

    class V(cst.CSTVisitor):
        def visit_Assign(self, node):
            for t in node.targets:
                names.extend(_target_names(t.target))

        def visit_AnnAssign(self, node):
            names.extend(_target_names(node.target))

        def visit_AugAssign(self, node):
            names.extend(_target_names(node.target))

        def visit_ImportAlias(self, node):
            if node.asname is not None and isinstance(node.asname.name, cst.Name):
                names.append(node.asname.name.value)
            else:
                d = dotted(node.name)
                if d:
                    names.append(d.split(".")[0])

        def visit_FunctionDef(self, node):
            names.append(node.name.value)
            return False

        def visit_ClassDef(self, node):
            names.append(node.name.value)
            return False

    stmt.visit(V())
    return names


def string_value(node) -> Any:
    """The value of a simple/concatenated string literal node, or raise NotStatic."""
    return evaluate(node, Scope(directory=None))


def evaluate(node: cst.BaseExpression, scope: Scope) -> Any:
    """Evaluate `node` statically; raise NotStatic(reason, offending node).

    One function per kind of expression (the table below): literals, strings, names and
    attributes, containers, operators, conditionals, calls and subscripts."""
    handler = _EVALUATORS.get(type(node))
    if handler is None:
        raise NotStatic(f"a {type(node).__name__} expression is only known when the flow runs", node)
    return handler(node, scope)


def _number(node, scope: Scope) -> Any:
    return node.evaluated_value


def _simple_string(node: cst.SimpleString, scope: Scope) -> Any:
    try:
        return node.evaluated_value
    except Exception:
        raise NotStatic("string literal cannot be decoded", node) from None


def _concatenated_string(node: cst.ConcatenatedString, scope: Scope) -> Any:
    left, right = evaluate(node.left, scope), evaluate(node.right, scope)
    try:
        return left + right
    except TypeError:
        raise NotStatic("cannot concatenate these literals", node) from None


def _formatted_string(node: cst.FormattedString, scope: Scope) -> str:
    out = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            out.append(part.value.replace("{{", "{").replace("}}", "}"))
            continue
        assert isinstance(part, cst.FormattedStringExpression)   # the only other kind of part
        value = evaluate(part.expression, scope)
        spec = ""
        if part.format_spec:
            spec = "".join(p.value for p in part.format_spec if isinstance(p, cst.FormattedStringText))
            if any(not isinstance(p, cst.FormattedStringText) for p in part.format_spec):
                raise NotStatic("nested f-string format spec", part)
        if part.conversion == "r":
            value = repr(value)
        elif part.conversion == "s":
            value = str(value)
        elif part.conversion == "a":
            value = ascii(value)
        try:
            out.append(format(value, spec))
        except Exception:
            raise NotStatic("invalid format spec", part) from None
    return "".join(out)


def qualname(node, scope: Scope) -> str | None:
    """The dotted name an imported name stands for (`tl.loads` after `import tomllib as tl` ->
    "tomllib.loads"), or None when the name is not imported (absolute imports only)."""
    d = dotted(node)
    if d is None:
        return None
    top, _, rest = d.partition(".")
    if top not in scope.imports or (top in scope.assigns and top not in scope.reassigned):
        return None
    module, attr, level = scope.imports[top]
    if level:
        return None
    base = f"{module}.{attr}" if attr else module
    return base + ("." + rest if rest else "")


_ENV_HINT = ("flowc reads the environment at compile time only when asked: pass --resolve-env "
             "(or set resolve_env = true in [tool.flowc]); the output then records the variables read")


def _env_name(args, kwargs, node) -> Any:
    return args[0] if args else kwargs.get("key", kwargs.get("name"))


def _config_ref(node, scope: Scope) -> ConfigNode | None:
    """The ConfigNode `node` reads (`cfg`, `cfg.a`, `cfg["a"]`, `config_expr(...)`), or None when
    `node` is not a read of a config (then nothing has been evaluated)."""
    if isinstance(node, cst.Name):
        return scope.config_refs.get(node.value)
    if isinstance(node, cst.Attribute):
        base = _config_ref(node.value, scope)
        return None if base is None else base.get(node.attr.value, node, True)
    if isinstance(node, cst.Subscript):
        base = _config_ref(node.value, scope)
        if base is None:
            return None
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            raise NotStatic("slices are not evaluated statically", node)
        return base.get(evaluate(node.slice[0].slice.value, scope), node, False)
    if isinstance(node, cst.Call) and qualname(node.func, scope) == "metaflow.config_expr":
        return _config_expr(node, scope)
    return None


def _config_expr(node: cst.Call, scope: Scope) -> ConfigNode:
    """`config_expr("cfg.a.b")`: the expression, over the configs by their names (as Metaflow
    evaluates it), in the same restricted language as every other argument."""
    first = node.args[0] if len(node.args) == 1 else None
    if first is None or first.star or (first.keyword is not None and first.keyword.value != "expr"):
        raise NotStatic("config_expr takes one argument, the expression as a string", node)
    arg = node.args[0].value
    text = evaluate(arg, scope)
    if not isinstance(text, str):
        raise NotStatic("config_expr takes the expression as a string", arg)
    try:
        expr = cst.parse_expression(text.strip())
    except Exception:
        raise ConfigError("FC258", f"config_expr({text!r}) is not a Python expression", arg) from None
    saved, scope.config_refs = scope.config_refs, scope.config_names
    try:
        ref = _config_ref(expr, scope)
        return ref if ref is not None else ConfigNode("config_expr", repr(text), (), evaluate(expr, scope))
    except ConfigError as exc:
        raise ConfigError(exc.code, f"in config_expr({text!r}): {exc.reason}", arg) from None
    except NotStatic as exc:
        raise NotStatic(f"in config_expr({text!r}): {exc.reason}", arg) from None
    finally:
        scope.config_refs = saved


def _name(node: cst.Name, scope: Scope) -> Any:
    ref = scope.config_refs.get(node.value)
    if ref is not None:
        if ref.value is UNRESOLVED:
            raise ConfigError("", "the config could not be resolved (already reported)", node)
        return ref.value
    _not_yet_a_config(node.value, scope, node)
    return scope.lookup(node.value, node)


def _not_yet_a_config(name: str | None, scope: Scope, node) -> None:
    """A flow decorator reading the flow's Config by its attribute: the class does not exist yet."""
    if name in scope.config_attrs and name not in scope.assigns and name not in scope.imports:
        raise NotStatic(f"`{name}` is a Config of the flow, which a flow-level decorator cannot see "
                        f"(the class does not exist yet); write config_expr(\"{scope.config_attrs[name]}\") "
                        "instead", node)


def _attribute(node: cst.Attribute, scope: Scope) -> Any:
    ref = _config_ref(node, scope)
    if ref is not None:
        return ref.value
    base = dotted(node)
    if base is not None:
        top = base.split(".")[0]
        if top in scope.imports:
            module, attr, level = scope.imports[top]
            if attr is None and (module == "metaflow" or module.startswith("metaflow.")):
                return Symbol(module + base[len(top):])
            if attr is None:
                # `import consts` / `import pkg.consts as c` then consts.X
                rest = base[len(top) + 1:].split(".")
                sib = scope.sibling_scope(module, 0)
                if sib is not None and len(rest) == 1:
                    return sib.lookup(rest[0], node)
    _not_yet_a_config(base.split(".")[0] if base else None, scope, node)
    from compiler.frontend import static_calls

    try:                                   # a path value's .parent & co.
        value = evaluate(node.value, scope)
    except NotStatic:
        value = None
    return static_calls.attribute(value, node.attr.value, node)


def _sequence(node: cst.List | cst.Tuple | cst.Set, scope: Scope) -> Any:
    items = []
    for el in node.elements:
        if isinstance(el, cst.StarredElement):
            items.extend(_iter(evaluate(el.value, scope), el.value))
        else:
            items.append(evaluate(el.value, scope))
    if isinstance(node, cst.List):
        return items
    if isinstance(node, cst.Tuple):
        return tuple(items)
    try:
        return set(items)
    except TypeError:
        raise NotStatic("unhashable set element", node) from None


def _dict(node: cst.Dict, scope: Scope) -> dict:
    out = {}
    for el in node.elements:
        if isinstance(el, cst.StarredDictElement):
            value = evaluate(el.value, scope)
            if not isinstance(value, dict):
                raise NotStatic("** of something that is not a dict", el.value)
            out.update(value)
        elif isinstance(el, cst.DictElement):
            key = evaluate(el.key, scope)
            try:
                out[key] = evaluate(el.value, scope)
            except TypeError:
                raise NotStatic("unhashable dict key", el.key) from None
    return out


def _unary(node: cst.UnaryOperation, scope: Scope) -> Any:
    value = evaluate(node.expression, scope)
    try:
        if isinstance(node.operator, cst.Minus):
            return -value
        if isinstance(node.operator, cst.Plus):
            return +value
        if isinstance(node.operator, cst.Not):
            return not value
        if isinstance(node.operator, cst.BitInvert):
            return ~value
    except TypeError:
        raise NotStatic("invalid operand for unary operator", node) from None
    raise NotStatic(f"a {type(node).__name__} expression is only known when the flow runs", node)


def _binary(node: cst.BinaryOperation, scope: Scope) -> Any:
    left, right = evaluate(node.left, scope), evaluate(node.right, scope)
    fn = _BINOPS.get(type(node.operator))
    if fn is operator.pow:
        fn = _safe_pow
    if fn is None:
        raise NotStatic("unsupported operator", node)
    if isinstance(left, Symbol) or isinstance(right, Symbol):
        raise NotStatic("arithmetic on a name that is not a value", node)
    if fn is operator.mul and (isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple))):
        other = right if isinstance(left, (str, list, tuple)) else left
        if isinstance(other, int) and other > 100000:
            raise NotStatic("sequence repetition too large", node)
    try:
        return fn(left, right)
    except Exception as exc:
        raise NotStatic(f"evaluating this fails ({type(exc).__name__})", node) from None


def _boolean(node: cst.BooleanOperation, scope: Scope) -> Any:
    left = evaluate(node.left, scope)
    if isinstance(node.operator, cst.And):
        return evaluate(node.right, scope) if left else left
    return left if left else evaluate(node.right, scope)


def _comparison(node: cst.Comparison, scope: Scope) -> bool:
    left = evaluate(node.left, scope)
    for target in node.comparisons:
        right = evaluate(target.comparator, scope)
        fn = _CMPOPS.get(type(target.operator))
        try:
            if fn is None or not fn(left, right):
                return False
        except Exception:
            raise NotStatic("comparison cannot be evaluated", node) from None
        left = right
    return True


def _if_exp(node: cst.IfExp, scope: Scope) -> Any:
    return evaluate(node.body, scope) if evaluate(node.test, scope) else evaluate(node.orelse, scope)


def _subscript(node: cst.Subscript, scope: Scope) -> Any:
    ref = _config_ref(node, scope)
    if ref is not None:
        return ref.value
    if qualname(node.value, scope) == "os.environ" and len(node.slice) == 1 \
            and isinstance(node.slice[0].slice, cst.Index):
        key = evaluate(node.slice[0].slice.value, scope)
        if scope.env is None:
            raise NotStatic(f"os.environ[{key!r}] reads the environment; {_ENV_HINT}", node)
        return scope.env.get(key, node, required=True)
    value = evaluate(node.value, scope)
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        key = evaluate(node.slice[0].slice.value, scope)
        try:
            return value[key]
        except Exception:
            raise NotStatic("subscript cannot be evaluated", node) from None
    raise NotStatic("slices are not evaluated statically", node)


def _iter(value, node):
    if isinstance(value, (list, tuple, set, str, dict)):
        return list(value)
    raise NotStatic("* of something that is not a sequence", node)


def _call(node: cst.Call, scope: Scope) -> Any:
    func = node.func
    q = qualname(func, scope)
    if q == "metaflow.config_expr":
        return _config_expr(node, scope).value
    if q in ("os.getenv", "os.environ.get"):
        args, kwargs = call_arguments(node, scope)
        name = _env_name(args, kwargs, node)
        if scope.env is None:
            raise NotStatic(f"{q}({name!r}) reads the environment; {_ENV_HINT}", node)
        return scope.env.get(name, node, args[1] if len(args) > 1 else kwargs.get("default"))
    target = None
    if isinstance(func, cst.Name):
        if func.value == "dict" and "dict" not in scope.assigns and "dict" not in scope.imports:
            target = "dict"
        elif func.value in ("list", "tuple", "set") and func.value not in scope.assigns:
            target = func.value
    if target is None:
        from compiler.frontend import static_calls

        return static_calls.follow(node, scope)
    args, kwargs = call_arguments(node, scope)
    try:
        if target == "dict":
            return dict(*args, **kwargs)
        if kwargs or len(args) > 1:
            raise TypeError
        return {"list": list, "tuple": tuple, "set": set}[target](*args)
    except NotStatic:
        raise
    except Exception:
        raise NotStatic(f"invalid arguments to {target}()", node) from None


def call_arguments(node: cst.Call, scope: Scope):
    """Evaluate all arguments of a call: (positional list, keyword dict), expanding * and **."""
    args, kwargs = [], {}
    for arg in node.args:
        if arg.star == "*":
            args.extend(_iter(evaluate(arg.value, scope), arg.value))
        elif arg.star == "**":
            value = evaluate(arg.value, scope)
            if not isinstance(value, dict):
                raise NotStatic("** of something that is not a dict", arg.value)
            kwargs.update(value)
        elif arg.keyword is not None:
            kwargs[arg.keyword.value] = evaluate(arg.value, scope)
        else:
            args.append(evaluate(arg.value, scope))
    return args, kwargs


_EVALUATORS: dict[type, Callable[[Any, Scope], Any]] = {
    cst.Integer: _number, cst.Float: _number, cst.Imaginary: _number,
    cst.SimpleString: _simple_string, cst.ConcatenatedString: _concatenated_string,
    cst.FormattedString: _formatted_string,
    cst.Name: _name, cst.Attribute: _attribute,
    cst.List: _sequence, cst.Tuple: _sequence, cst.Set: _sequence, cst.Dict: _dict,
    cst.UnaryOperation: _unary, cst.BinaryOperation: _binary, cst.BooleanOperation: _boolean,
    cst.Comparison: _comparison, cst.IfExp: _if_exp,
    cst.Call: lambda node, scope: _call(node, scope), cst.Subscript: _subscript,
}
