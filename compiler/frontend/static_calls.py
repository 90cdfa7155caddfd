"""Calls the static evaluator (static_eval.py) can follow: path arithmetic and small helpers.

Metaflow evaluates a Parameter's or IncludeFile's default when the flow is imported, so flows
compute them, the tutorials first of all:

    def script_path(filename):
        filepath = os.path.join(os.path.dirname(__file__))
        return os.path.join(filepath, filename)

    movie_data = IncludeFile("movie_data", default=script_path("movies.csv"))

Followed here, on values already known:
- `__file__` (the module's own file, absolute: static_eval.Scope.lookup) and the pure functions of
  `os.path` (join, dirname, basename, normpath, splitext, and abspath/realpath of an absolute path;
  no file system access beyond what the path says, so no symlink is resolved) and `str()`;
- `pathlib.Path` / `PurePath`: `/`, `.parent`, `.name`, `.stem`, `.suffix`, `.resolve()`,
  `.absolute()`, `.joinpath()`, `.with_suffix()`, `.with_name()`;
- a call to a function defined at module level (in the flow's file or a module beside it) whose
  body is only a docstring, imports, assignments to names and one `return`: its parameters are
  bound to the arguments (or their defaults) and the body is evaluated in order.
Anything else stays NotStatic, with the reason.
"""
from __future__ import annotations

import json
import os
import posixpath
from pathlib import PurePosixPath
from typing import Any, Callable

import libcst as cst

from compiler.frontend.static_values import NotStatic

MAX_CALL_DEPTH = 8

_PATH_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "os.path.join": os.path.join, "os.path.dirname": os.path.dirname, "os.path.basename": os.path.basename,
    "os.path.normpath": os.path.normpath, "os.path.splitext": os.path.splitext,
    "posixpath.join": posixpath.join, "posixpath.dirname": posixpath.dirname,
}
_ABSOLUTE_ONLY = {"os.path.abspath", "os.path.realpath", "os.path.normcase"}
_PATH_CLASSES = {"pathlib.Path", "pathlib.PurePath", "pathlib.PurePosixPath", "pathlib.PosixPath"}
_PATH_ATTRIBUTES = ("parent", "name", "stem", "suffix")
_PATH_METHODS = {"resolve", "absolute", "joinpath", "with_suffix", "with_name", "as_posix"}


def follow(node: cst.Call, scope: Any) -> Any:
    """The value of a call static_eval has no rule for, or raise NotStatic."""
    from compiler.frontend.static_eval import call_arguments, evaluate, qualname

    func = node.func
    q = qualname(func, scope)
    if q in _PATH_FUNCTIONS or q in _ABSOLUTE_ONLY or q in _PATH_CLASSES:
        args, kwargs = call_arguments(node, scope)
        _all_text(args, node)
        if kwargs:
            raise NotStatic(f"{q}() with keyword arguments", node)
        if q in _PATH_CLASSES:
            return PurePosixPath(*[str(a) for a in args])
        if q in _ABSOLUTE_ONLY:
            if len(args) != 1 or not os.path.isabs(str(args[0])):
                raise NotStatic(f"{q}() of a relative path depends on the directory the flow is run from",
                                node)
            return os.path.normpath(str(args[0]))
        try:
            return _PATH_FUNCTIONS[q](*[str(a) for a in args])
        except TypeError:
            raise NotStatic(f"invalid arguments to {q}()", node) from None
    if q in _DATA_FUNCTIONS:
        args, kwargs = call_arguments(node, scope)
        try:
            return _DATA_FUNCTIONS[q]()(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - what the flow's own call would raise
            raise NotStatic(f"{q}() fails here ({type(exc).__name__}: {exc})", node) from None
    if isinstance(func, cst.Name) and func.value in _BUILTINS and not _shadowed(func.value, scope):
        args, kwargs = call_arguments(node, scope)
        return _builtin(func.value, args, kwargs, node)
    if isinstance(func, cst.Attribute) and q is None:
        try:
            base = evaluate(func.value, scope)
        except NotStatic:
            base = None
        method = func.attr.value
        if isinstance(base, PurePosixPath) and method in _PATH_METHODS:
            args, kwargs = call_arguments(node, scope)
            return _path_method(base, method, args, kwargs, node)
        pure = next((names for kind, names in _VALUE_METHODS if isinstance(base, kind)), ())
        if method in pure:
            args, kwargs = call_arguments(node, scope)
            try:
                return getattr(base, method)(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - what the flow's own call would raise
                raise NotStatic(f".{method}() fails here ({type(exc).__name__}: {exc})", node) from None
    defined = module_function(func, scope)
    if defined is not None:
        fdef, home = defined
        args, kwargs = call_arguments(node, scope)
        return call_function(fdef, home, args, kwargs, node)
    raise NotStatic("a call to a function is only evaluated when the flow runs", node)


# Pure functions and methods of values, evaluated as Python would (a helper computing a quantity).
_BUILTINS: dict[str, Callable[..., Any]] = {
    "abs": abs, "round": round, "min": min, "max": max, "len": len, "int": int, "float": float,
    "bool": bool, "sum": sum, "sorted": sorted, "pow": pow, "str": str}
def _format(fmt: str) -> Callable[[], Callable[..., Any]]:
    def load():
        from compiler.frontend.configs import loader

        return loader(fmt)
    return load


# Data formats (a Config parser of the flow's own is often one of these plus a key or a check).
_DATA_FUNCTIONS: dict[str, Callable[[], Callable[..., Any]]] = {
    "json.dumps": lambda: json.dumps, "json.loads": _format("json"), "tomllib.loads": _format("toml"),
    "tomli.loads": _format("toml"), "yaml.safe_load": _format("yaml")}
_VALUE_METHODS = (
    (str, {"lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "join", "replace",
           "startswith", "endswith", "removeprefix", "removesuffix", "title", "zfill"}),
    ((list, tuple), {"index", "count"}),
    (dict, {"get", "keys", "values", "items"}),
)


def _builtin(name: str, args: list, kwargs: dict, node) -> Any:
    from compiler.frontend.static_values import Symbol

    if any(isinstance(a, Symbol) for a in list(args) + list(kwargs.values())):
        raise NotStatic(f"{name}() of a name that is not a value", node)
    if name in ("sum", "sorted", "min", "max") and args and isinstance(args[0], (list, tuple)) and len(args[0]) > 100000:
        raise NotStatic(f"{name}() of a sequence too large", node)
    if name == "pow":
        from compiler.frontend.static_eval import _safe_pow

        if len(args) != 2 or kwargs:
            raise NotStatic("pow() takes two arguments here", node)
        return _safe_pow(*args)
    try:
        return _BUILTINS[name](*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - what the flow's own call would raise
        raise NotStatic(f"{name}() fails here ({type(exc).__name__}: {exc})", node) from None


def attribute(value: Any, name: str, node) -> Any:
    """`.parent` & co. of a path value, or raise NotStatic."""
    if isinstance(value, PurePosixPath) and name in _PATH_ATTRIBUTES:
        return getattr(value, name)
    raise NotStatic("an attribute of an object that is only known when the flow runs", node)


def _shadowed(name: str, scope: Any) -> bool:
    return name in scope.assigns or name in scope.imports or name in scope.defs


def _all_text(args, node) -> None:
    for a in args:
        if not isinstance(a, (str, PurePosixPath)):
            raise NotStatic("a path function applied to something that is not a path", node)


def _path_method(base: PurePosixPath, method: str, args, kwargs, node) -> Any:
    if kwargs:
        raise NotStatic(f"Path.{method}() with keyword arguments", node)
    _all_text(args, node)
    if method in ("resolve", "absolute"):
        if args or not base.is_absolute():
            raise NotStatic(f"Path.{method}() of a relative path depends on the directory the flow is "
                            "run from", node)
        return PurePosixPath(os.path.normpath(str(base)))
    if method == "as_posix":
        return base.as_posix()
    try:
        return getattr(base, method)(*[str(a) for a in args])
    except (TypeError, ValueError):
        raise NotStatic(f"invalid arguments to Path.{method}()", node) from None


def module_function(func, scope: Any):
    """(FunctionDef, the scope of its module) for a module-level def, or None."""
    if not isinstance(func, cst.Name):
        return None
    name = func.value
    if name in scope.def_nodes and name not in scope.assigns and name not in scope.imports:
        return scope.def_nodes[name], scope
    if name in scope.imports and name not in scope.assigns:
        module, attr, level = scope.imports[name]
        if attr is not None:
            sib = scope.sibling_scope(module, level)
            if sib is not None and attr in sib.def_nodes and attr not in sib.assigns and attr not in sib.imports:
                return sib.def_nodes[attr], sib
    return None


def call_function(fdef: cst.FunctionDef, home: Any, args: list, kwargs: dict, node) -> Any:
    """Evaluate a simple module-level function's body with its parameters bound."""

    name = fdef.name.value
    if home.depth + home.calls >= MAX_CALL_DEPTH:
        raise NotStatic(f"`{name}()` calls nest too deep to follow", node)
    if fdef.asynchronous is not None or fdef.decorators:
        raise NotStatic(f"`{name}()` is decorated or async, so it is only evaluated when the flow runs", node)
    local = home.for_call()
    _bind(fdef, local, home, args, kwargs, node)
    return _run_block(fdef.body, local, name, node, first=True)[1]


def _run_block(block, local: Any, name: str, call, first: bool = False) -> tuple[bool, Any]:
    """Run statements in order: (True, value) once a `return` ran, else (False, None)."""
    from compiler.frontend.static_eval import evaluate

    body = block.body if isinstance(block, cst.IndentedBlock) else [block]
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.If):
            branch: cst.If | cst.Else | None = stmt
            while branch is not None:
                test = getattr(branch, "test", None)
                if test is None or _in(evaluate, test, local, name, call):
                    done, value = _run_block(branch.body, local, name, call)
                    if done:
                        return done, value
                    break
                branch = branch.orelse if isinstance(branch, cst.If) else None
            continue
        smalls = stmt.body if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else None
        if smalls is None:
            raise NotStatic(f"`{name}()` has a {type(stmt).__name__} statement; flowc follows only "
                            "assignments, `if` and `return` at compile time", call)
        for small in smalls:
            if isinstance(small, cst.Expr) and first and i == 0 and \
                    isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
                continue                                   # the docstring
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                local.collect_import(small)
                continue
            target = small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else \
                small.target if isinstance(small, cst.AnnAssign) and small.value is not None else None
            if isinstance(target, cst.Name) and isinstance(small, (cst.Assign, cst.AnnAssign)) and \
                    small.value is not None:
                local.bind(target.value, _in(evaluate, small.value, local, name, call))
                continue
            if isinstance(small, cst.Return):
                return True, (None if small.value is None else _in(evaluate, small.value, local, name, call))
            if isinstance(small, cst.Raise):
                raise NotStatic(f"`{name}()` raises here, as it would when the flow runs", call)
            raise NotStatic(f"`{name}()` does more than flowc follows at compile time (a "
                            f"{type(small).__name__}); only assignments, `if` and `return`", call)
    return False, None


def _in(evaluate, expr, local, name, call):
    """Evaluate in the function's body; a failure is reported at the call in the flow (the
    argument the user wrote), saying what inside the function could not be followed."""
    try:
        return evaluate(expr, local)
    except NotStatic as exc:
        raise NotStatic(f"in `{name}()`: {exc.reason}", call) from None


def _bind(fdef: cst.FunctionDef, local: Any, home: Any, args: list, kwargs: dict, node) -> None:
    from compiler.frontend.static_eval import evaluate

    p = fdef.params
    if isinstance(p.star_arg, cst.Param) or isinstance(p.star_kwarg, cst.Param):
        raise NotStatic(f"`{fdef.name.value}()` takes *args or **kwargs; flowc does not follow it", node)
    positional = list(p.posonly_params) + list(p.params)
    if len(args) > len(positional):
        raise NotStatic(f"`{fdef.name.value}()` is given too many arguments", node)
    kwargs = dict(kwargs)
    for i, param in enumerate(positional + list(p.kwonly_params)):
        pname = param.name.value
        if i < len(args) and i < len(positional):
            value = args[i]
        elif pname in kwargs:
            value = kwargs.pop(pname)
        elif param.default is not None:
            value = evaluate(param.default, home)
        else:
            raise NotStatic(f"`{fdef.name.value}()` is missing the argument `{pname}`", node)
        local.bind(pname, value)
    if kwargs:
        raise NotStatic(f"`{fdef.name.value}()` has no parameter `{next(iter(kwargs))}`", node)
