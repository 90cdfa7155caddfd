"""Reading `Parameter`, `IncludeFile` and `Config` class attributes into ParameterDecl.

A mixin of the Parser (parse.py): reading happens during the tree walk (`_read_param`), the
ParameterDecl is made once positions are known (`_param`), with the type checks of FC208.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import libcst as cst

from compiler.diagnostics import ERROR, Diagnostic
from compiler.frontend import configs as C
from compiler.frontend.configs import FrontendOptions
from compiler.frontend.imports import Names
from compiler.frontend.model import ParameterDecl, Span
from compiler.frontend.parsed import RawParameter
from compiler.frontend.source import SourceFile
from compiler.frontend.static_eval import UNRESOLVED, ConfigNode, NotStatic, Scope, dotted, evaluate, qualname

PARAMETER_KINDS = {"Parameter": "parameter", "IncludeFile": "include_file", "Config": "config"}
PARAM_POSITIONAL = {
    "Parameter": ["name", "default", "type", "help", "required", "show_default"],
    "IncludeFile": ["name", "required", "is_text", "encoding", "help"],
    "Config": ["name", "default", "default_value", "help", "required", "parser"],
}

# Keywords Metaflow passes on to click.Option (Parameter(..., **kwargs)), plus its own `separator`:
# anything else fails when Metaflow builds its command line, so it is refused here (FC216).
CLICK_OPTION_KEYWORDS = frozenset({
    "show_default", "prompt", "confirmation_prompt", "prompt_required", "hide_input", "is_flag",
    "flag_value", "multiple", "count", "allow_from_autoenv", "type", "help", "hidden", "show_choices",
    "show_envvar", "default", "required", "callback", "nargs", "metavar", "expose_value", "is_eager",
    "envvar", "shell_complete", "deprecated", "separator"})
PARAM_KEYWORDS = {canon: frozenset(names) | CLICK_OPTION_KEYWORDS for canon, names in PARAM_POSITIONAL.items()}
PARAM_KEYWORDS["IncludeFile"] |= {"parser"}
PARAM_KEYWORDS["Config"] |= {"plain"}        # keyword-only in Metaflow (the value as the parser made it)


def keyword_suggestion(key: str, canon: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(PARAM_KEYWORDS[canon]), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


@dataclass(frozen=True)
class _Parser:
    """A Config's parser= as written: its dotted spelling, or None for the flow's own function
    (`function`: the name node of a module-level def the static evaluator may follow)."""

    spelling: str | None
    function: Any = None
    scope: Any = None            # the scope of the module the Config is declared in


class ParameterReader:
    scope: Scope
    names: Names
    source: SourceFile
    diags: list[Diagnostic]
    raw_params: list[RawParameter]
    options: FrontendOptions
    directory: str | None
    input_files: list[str]
    model_cls: cst.ClassDef

    def _beside_the_flow(self, default: Any) -> Any:
        """An IncludeFile default computed from `__file__` (the tutorials' `script_path("movies.csv")`)
        is absolute; inside the flow's folder it names the same file relative to it, which is what
        the code package holds and what the output may show (no path of the compiling machine)."""
        if not isinstance(default, (str, os.PathLike)) or not self.directory:
            return default
        path = os.fspath(default)
        if os.path.isabs(path):
            rel = os.path.relpath(os.path.normpath(path), self.directory)
            if rel != ".." and not rel.startswith(".." + os.sep):
                return rel.replace(os.sep, "/")
        return path

    def not_static(self, exc: NotStatic, what: str, when: str = "the flow runs") -> None:
        raise NotImplementedError

    def report(self, code: str, message: str, node: Any, severity: str | None = None, notes=()) -> None:
        raise NotImplementedError

    def want(self, node: Any) -> Any:
        raise NotImplementedError

    def _span(self, node: Any) -> Span:
        raise NotImplementedError

    def _read_param(self, assign, configs: bool):
        """Read one class attribute if it is a Parameter/IncludeFile (configs=False) or a Config
        (configs=True: the first pass, so that every other argument can read the configs)."""
        value = assign.value
        if not isinstance(value, cst.Call):
            return
        canon, origin = self.names.resolve(value.func)
        if origin != "metaflow" or canon not in PARAMETER_KINDS or (canon == "Config") != configs:
            return
        targets = assign.targets if isinstance(assign, cst.Assign) else [assign]
        if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
            return
        attr = targets[0].target.value
        self.want(targets[0].target)
        kw: dict[str, Any] = {}
        nodes: dict[str, Any] = {}
        names = PARAM_POSITIONAL[canon]
        i = 0
        bad = False
        for a in value.args:
            if a.star:
                if a.star == "**":
                    try:
                        extra = evaluate(a.value, self.scope)
                        if isinstance(extra, dict):
                            kw.update(extra)
                            continue
                    except NotStatic as exc:
                        self.not_static(exc, f"{canon}(**...)", "the run")
                        bad = True
                        continue
                self.report("FC208", f"{canon}(*...) arguments cannot be read statically", a.value)
                bad = True
                continue
            key = a.keyword.value if a.keyword is not None else (names[i] if i < len(names) else None)
            if a.keyword is None:
                i += 1
            if key is None:
                self.report("FC208", f"{canon}() takes at most {len(names)} positional arguments", a.value)
                bad = True
                continue
            if a.keyword is not None and key not in PARAM_KEYWORDS[canon]:
                self.report("FC216", f"{canon}() has no keyword `{key}`"
                            f"{keyword_suggestion(key, canon)}", a.keyword)
                bad = True
                continue
            nodes[key] = self.want(a.value)
            if key == "type":
                v = a.value
                canon_t, orig_t = self.names.resolve(v) if isinstance(v, (cst.Name, cst.Attribute)) else (None, "")
                if orig_t == "metaflow" and canon_t == "JSONType":
                    kw[key] = "json"
                elif isinstance(v, cst.Name) and v.value in ("int", "float", "str", "bool") \
                        and v.value not in self.names.defined:
                    kw[key] = v.value
                else:
                    kw[key] = ("?", dotted(v) or "expression")
                continue
            if key == "parser" and canon == "Config":
                kw[key] = self._parser(a.value)
                continue
            try:
                kw[key] = evaluate(a.value, self.scope)
                if type(kw[key]).__name__ == "FunctionRef":   # a def named as a value
                    raise NotStatic(f"`{kw[key]!r}` is a function", a.value)
            except NotStatic as exc:
                if key in ("default", "default_value") and isinstance(a.value, (cst.Lambda, cst.Name)) \
                        and "is a function" in exc.reason:
                    kw[key] = ("deploy_time",)
                    self.report("FC201", f"{canon} `{key}` is a function evaluated at deploy time; "
                                "flowc needs a value known before the run", exc.node)
                elif key in ("default", "default_value") and isinstance(a.value, cst.Lambda):
                    kw[key] = ("deploy_time",)
                    self.report("FC201", f"{canon} `{key}` is a function evaluated at deploy time; "
                                "flowc needs a value known before the run", exc.node)
                else:
                    self.not_static(exc, f"{canon} argument `{key}`")
                bad = True
        self.raw_params.append(RawParameter(attr=attr, kind=PARAMETER_KINDS[canon], canon=canon, kw=kw,
                                            nodes=nodes, call=value, target=targets[0].target, bad=bad))
        self.want(value)

    def _parser(self, node) -> "_Parser | str":
        """parser= as a spelling flowc can check against configs.PARSERS: a string as written, or
        the dotted name an imported function stands for; the flow's own function: spelling None."""
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                text = evaluate(node, self.scope)
                if isinstance(text, str):
                    return _Parser(text)
            except NotStatic:
                pass
        q = qualname(node, self.scope) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if q is not None:
            return _Parser(q)
        if isinstance(node, cst.Name) and node.value not in self.scope.def_nodes:
            try:                        # a constant naming the parser: PARSER = "tomllib.loads"
                text = evaluate(node, self.scope)
                if isinstance(text, str):
                    return _Parser(text)
            except NotStatic:
                pass
        return _Parser(None, node if isinstance(node, cst.Name) else None, self.scope)

    def _own_parser(self, name_node, scope):
        """The flow's own parser function as a callable the static evaluator runs, or None."""
        from compiler.frontend import static_calls

        found = static_calls.module_function(name_node, scope) if name_node is not None else None
        if found is None:
            return None
        fdef, home = found
        return lambda text: static_calls.call_function(fdef, home, [text], {}, name_node)

    def _resolve_configs(self) -> dict[str, ConfigNode]:
        """Resolve every Config read in the first pass (configs.resolve); bind them by name for
        config_expr (scope.config_names) and return them by attribute, for the class body."""
        decls = [p for p in self.raw_params if p.kind == "config"]
        names = [p.kw["name"] for p in decls if isinstance(p.kw.get("name"), str)]
        first = decls[0].call if decls else None
        for code, message in C.override_problems(names, self.options):
            self.report(code, message, first if first is not None else self.model_cls.name)
        by_attr: dict[str, ConfigNode] = {}
        by_name: dict[str, ConfigNode] = {}
        self.config_values: dict[int, C.ResolvedConfig] = {}
        for p in decls:
            name = p.kw.get("name")
            if not isinstance(name, str) or not name:
                continue
            node = ConfigNode(name, "?", (), UNRESOLVED)
            resolved = None if p.bad else self._resolve_one(p, name)
            if resolved is not None:
                self.config_values[id(p.call)] = resolved
                source = resolved.source
                if resolved.file and self.directory:
                    rel = os.path.relpath(resolved.file, self.directory)
                    source = rel if not rel.startswith("..") else resolved.file
                    self.input_files.append(resolved.file)
                node = ConfigNode(name, source, (), resolved.value)
            by_attr[p.attr] = node
            by_name[name] = node
        self.scope.config_names = by_name
        self.scope.config_attrs = {attr: node.config for attr, node in by_attr.items()}
        return by_attr

    def _resolve_one(self, p: RawParameter, name: str) -> "C.ResolvedConfig | None":
        kw = p.kw
        if kw.get("default") is not None and kw.get("default_value") is not None:
            self.report("FC257", f"config '{name}' has both default= (a file) and default_value=; "
                        "Metaflow allows one of them", p.nodes.get("default_value") or p.call)
            return None
        parser = kw.get("parser")
        spelling = parser.spelling if isinstance(parser, _Parser) else None
        own = None
        if isinstance(parser, _Parser) and parser.spelling is None:
            own = self._own_parser(parser.function, parser.scope)
            if own is None:
                self.report("FC255", f"config '{name}': parser= is a function flowc cannot run without "
                            f"importing the flow; use {C.STATIC_ALTERNATIVES}", p.nodes.get("parser"))
                return None
        try:
            return C.resolve(name, kw, self.directory, self.options, spelling, own)
        except NotStatic as exc:
            fname = parser.function.value if isinstance(parser, _Parser) else "?"
            self.report("FC255", f"config '{name}': flowc cannot run parser {fname}() at "
                        f"compile time ({exc.reason}); use {C.STATIC_ALTERNATIVES}", p.nodes.get("parser"))
            return None
        except C.ConfigProblem as problem:
            node = p.nodes.get(problem.where) or p.nodes.get("default") or p.nodes.get("default_value") \
                or p.call
            self.report(problem.code, problem.message, node)
            return None

    def _param(self, p: RawParameter) -> ParameterDecl:
        kw = p.kw
        kind = p.kind
        name = kw.get("name")
        span = self._span(p.target)
        if not isinstance(name, str) or not name:
            if "name" not in kw and not p.bad:
                self.diags.append(Diagnostic("FC208", ERROR, f"{p.canon}() needs a name as its first "
                                             "argument", span, path=self.source.path))
            elif "name" in kw:
                self.diags.append(Diagnostic("FC208", ERROR, f"{p.canon} name must be a string",
                                             self._span(p.nodes.get("name")) or span,
                                             path=self.source.path))
            name = p.attr
        default_key = "default_value" if kind == "config" and "default_value" in kw else "default"
        has_default = default_key in kw and kw[default_key] is not None
        default = kw.get(default_key)
        source = None
        if kind == "config":     # a Config's default is its resolved value (configs.py)
            resolved = getattr(self, "config_values", {}).get(id(p.call))
            default = resolved.value if resolved is not None else None
            has_default = default is not None
            source = resolved.source if resolved is not None else None
        if isinstance(default, tuple) and default[:1] == ("deploy_time",):
            default, has_default = None, False
        if kind == "include_file":
            default = self._beside_the_flow(default)
        t = kw.get("type")
        type_name = None
        if isinstance(t, tuple):
            self.diags.append(Diagnostic("FC208", ERROR, f"parameter `{name}`: type={t[1]} is not one of "
                                         "int, float, str, bool, JSONType", self._span(p.nodes["type"]),
                                         path=self.source.path))
            type_name = "str"
        elif t is not None:
            type_name = t
        if kind == "config":
            type_name = "json"
        elif kind == "include_file":
            type_name = "str"
        elif type_name is None:
            if isinstance(default, bool):
                type_name = "bool"
            elif isinstance(default, int):
                type_name = "int"
            elif isinstance(default, float):
                type_name = "float"
            elif isinstance(default, (dict, list)):
                type_name = "json"
            else:
                type_name = "str"
        elif has_default and kind == "parameter" and not isinstance(default, str):
            ok = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  "bool": lambda v: isinstance(v, bool),
                  "str": lambda v: True, "json": lambda v: isinstance(v, (dict, list))}[type_name](default)
            if not ok:
                self.diags.append(Diagnostic("FC208", ERROR, f"parameter `{name}`: default {default!r} is "
                                             f"not of type {type_name}", self._span(p.nodes.get("default")),
                                             path=self.source.path))
        help_ = kw.get("help")
        sep = kw.get("separator")
        decl = ParameterDecl(
            attr=p.attr, name=name, kind=kind, type=type_name, span=span, default=default,
            has_default=has_default, required=bool(kw.get("required") or False),
            help=help_ if isinstance(help_, str) else None, multiple=bool(kw.get("multiple") or False),
            separator=sep if isinstance(sep, str) else None,
            is_text=bool(kw.get("is_text", True)) if kw.get("is_text") is not None else True,
            encoding=encoding if isinstance(encoding := kw.get("encoding"), str) else "utf-8",
            plain=bool(kw.get("plain") or False) if kind == "config" else False, source=source)
        return decl
