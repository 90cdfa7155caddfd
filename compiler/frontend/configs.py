"""Metaflow `Config`s, resolved when the flow is compiled (as Metaflow resolves them when it deploys).

A `Config(name, default=PATH | default_value=VALUE, parser=..., required=..., plain=...)` gets its
value from, in order: `--config NAME PATH` / `--config-value NAME TEXT` (FrontendOptions), the
default file (relative to the flow's folder), `default_value` (a dict, or text to parse), else
None (an error when required). Text is parsed as JSON, or by a parser flowc knows (`PARSERS`):
TOML through tomllib, YAML through pyyaml. A parser that is the flow's own function runs when the
static evaluator can follow it (compiler/frontend/static_calls.py: assignments, `if`, `return`,
those formats, pure builtins, e.g. `def parse(t): return tomllib.loads(t)["limits"]`); any other
cannot run without importing the flow: FC255, saying why and naming a static alternative.

The value is then read by the static evaluator (static_eval.ConfigNode): `cfg.a.b`, `cfg["a"]`,
`config_expr("cfg.a")` in decorator arguments, Parameter defaults, @project and flow decorators.
The same value travels in the runtime spec, so the task sees what the compiler used.
"""
from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

# parser= spellings (strings, or the dotted name of the function passed) -> the format flowc reads.
# A string starting with "." is relative to `metaflow`, as in Metaflow.
PARSERS = {
    "json.loads": "json", "tomllib.loads": "toml", "tomli.loads": "toml", "toml.loads": "toml",
    "yaml.safe_load": "yaml", "yaml.full_load": "yaml", "metaflow.yaml_parser": "yaml",
    "metaflow.plugins.parsers.yaml_parser": "yaml",
}
STATIC_ALTERNATIVES = ('parser="tomllib.loads" (TOML), parser="yaml.safe_load" (YAML), no parser '
                       '(JSON), or a JSON file made by your own tool before compiling')


@dataclass(frozen=True)
class FrontendOptions:
    """What the front end reads besides the flow's source: config overrides and, with
    `resolve_env`, the compiling environment. Part of any cache key of an analysis."""

    config_paths: tuple[tuple[str, str], ...] = ()      # --config NAME PATH (PATH from the cwd)
    config_values: tuple[tuple[str, str], ...] = ()     # --config-value NAME TEXT
    resolve_env: bool = False                           # --resolve-env: os.getenv & co. are read
    allow_outside_files: bool = False                   # a default file may be outside the flow's folder
    environ: Mapping[str, str] | None = field(default=None, compare=False, hash=False)

    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def cache_key(self) -> str:
        """What an analysis cache key needs of these options (the files read are recorded as
        dependencies; --resolve-env analyses are not cached)."""
        return repr((self.config_paths, self.config_values, self.allow_outside_files))


@dataclass
class ConfigProblem(Exception):
    """A config that cannot be resolved. `where`: the declaration's argument to point at
    ("default", "default_value", "parser", "name"); `file`/`line`/`col`: a place in the config
    file itself (parse errors), when known."""

    code: str
    message: str
    where: str = "name"
    file: str | None = None
    line: int | None = None
    col: int | None = None


@dataclass(frozen=True)
class ResolvedConfig:
    name: str
    value: Any                  # JSON-like data (dicts, lists, str, numbers, bools, None)
    source: str                 # where it came from: a path, "--config-value", "default_value", "none"
    file: str | None = None     # the file read, absolute (an input of the analysis)


def parser_format(spelling: str | None) -> str | None:
    """The format of a parser spelling ("tomllib.loads" -> "toml"), None when flowc cannot run it."""
    if spelling is None:
        return "json"
    name = "metaflow" + spelling if spelling.startswith(".") else spelling
    return PARSERS.get(name)


def _normalize(value: Any, name: str) -> Any:
    """JSON-like data: TOML/YAML dates become ISO text, tuples lists; anything else is refused."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                if isinstance(k, (int, float, bool)) or k is None:
                    k = json.dumps(k)
                else:
                    raise ConfigProblem("FC252", f"config '{name}' has a key of type {type(k).__name__}")
            out[k] = _normalize(v, name)
        return out
    if isinstance(value, (list, tuple)):
        return [_normalize(v, name) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ConfigProblem("FC252", f"config '{name}' holds a value of type {type(value).__name__}, "
                                 "which flowc cannot carry to the tasks")


def loader(fmt: str) -> Callable[[str], Any]:
    """The parse function of a format ("json", "toml", "yaml"); ModuleNotFoundError when its
    library is not installed. Also what static_calls runs for the flow's own parsers."""
    if fmt == "json":
        return json.loads
    if fmt == "toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        return tomllib.loads
    import yaml
    return yaml.safe_load


def _parse(text: str, fmt: str, name: str, source: str, file: str | None, where: str) -> Any:
    """Text -> data in `fmt`; a parse error names the source and, when the parser says, the line
    and column in it (`cfg.toml:3:7: ...`)."""
    try:
        return loader(fmt)(text)
    except ModuleNotFoundError as exc:
        raise ConfigProblem("FC255", f"config '{name}': the {fmt.upper()} parser is not installed "
                            f"where flowc runs ({exc.name})", "parser") from None
    except Exception as exc:   # json.JSONDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError
        line = col = None
        if isinstance(exc, json.JSONDecodeError):
            line, col, msg = exc.lineno, exc.colno, exc.msg
        else:
            msg = " ".join(str(exc).split())
            mark = getattr(exc, "problem_mark", None)
            found = re.search(r"line (\d+), column (\d+)", msg)
            if mark is not None:
                line, col = mark.line + 1, mark.column + 1
                msg = " ".join(str(getattr(exc, "problem", None) or msg).split())
            elif found:
                line, col = int(found.group(1)), int(found.group(2))
                msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        place = f"{source}:{line}:{col}" if line else source
        raise ConfigProblem("FC251", f"config '{name}': {place}: not valid {fmt.upper()}: {msg}",
                            where, file, line, col) from None


def _read(path: str, shown: str, name: str, what: str, where: str) -> str:
    from compiler.frontend import deps  # recorded: an analysis cache entry depends on the file

    try:
        return deps.read_text(path)
    except FileNotFoundError:
        deps.isfile(path)                   # recorded as absent: creating it is a change
        raise ConfigProblem("FC250", f"config '{name}': {what} {shown} does not exist", where) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigProblem("FC250", f"config '{name}': cannot read {what} {shown}: {reason}", where) from None


def resolve(name: str, kw: dict[str, Any], flow_dir: str | None, options: FrontendOptions,
            parser_spelling: str | None, own_parser: Callable[[str], Any] | None = None) -> ResolvedConfig:
    """The value of one Config, from its (statically evaluated) arguments and the overrides.
    `own_parser`: the flow's own parser function, as the static evaluator follows it
    (static_calls: a body of assignments, `if`, `return` and known data formats)."""
    plain = bool(kw.get("plain") or False)
    fmt = parser_format(parser_spelling)
    if fmt is None and own_parser is None:
        raise ConfigProblem("FC255", f"config '{name}': parser {parser_spelling} is not one flowc can "
                            f"run at compile time; use {STATIC_ALTERNATIVES}", "parser")
    paths = dict(options.config_paths)
    values = dict(options.config_values)
    text: str | None = None
    file = None
    where = "default"
    if name in paths:
        file = os.path.abspath(paths[name])
        text, source, where = _read(file, paths[name], name, "--config file", "name"), paths[name], "name"
    elif name in values:
        text, source, where = values[name], "--config-value", "name"
    elif kw.get("default") is not None:
        default = kw["default"]
        if not isinstance(default, str):
            raise ConfigProblem("FC252", f"config '{name}': default= is the path of a file, not a "
                                f"{type(default).__name__} (a value goes in default_value=)", "default")
        parts = os.path.normpath(default).replace(os.sep, "/").split("/")
        if (os.path.isabs(default) or default.startswith("~") or ".." in parts) and not options.allow_outside_files:
            raise ConfigProblem("FC260", f"config '{name}': its default file {default} is outside the flow's "
                                "folder; only files beside the flow are read at compile time (pass it with "
                                f"--config {name} PATH, or set allow_outside_files)", "default")
        file = os.path.join(flow_dir, default) if flow_dir and not os.path.isabs(default) else default
        file = os.path.abspath(file)
        text = _read(file, f"{default} (relative to the flow's folder)", name, "default file", "default")
        source = default
    elif kw.get("default_value") is not None:
        dv = kw["default_value"]
        source = where = "default_value"
        if isinstance(dv, str):
            text = dv
        else:
            return ResolvedConfig(name, _checked(_normalize(dv, name), name, plain, source), source)
    else:
        if kw.get("required"):
            raise ConfigProblem("FC256", f"config '{name}' is required and has no value: give "
                                f"--config {name} PATH or --config-value {name} VALUE", "name")
        return ResolvedConfig(name, None, "none")
    if own_parser is not None:
        data = own_parser(text)
        if plain:
            return ResolvedConfig(name, _normalize(data, name), source, file)
        return ResolvedConfig(name, _checked(_normalize(data, name), name, plain, source), source, file)
    if plain and parser_spelling is None:
        return ResolvedConfig(name, text, source, file)     # plain, no parser: the text itself
    assert fmt is not None
    data = _parse(text, fmt, name, source, file, where)
    return ResolvedConfig(name, _checked(_normalize(data, name), name, plain, source), source, file)


def _checked(value: Any, name: str, plain: bool, source: str) -> Any:
    if not plain and value is not None and not isinstance(value, dict):
        raise ConfigProblem("FC252", f"config '{name}' ({source}) must hold a mapping (a JSON object, "
                            f"a TOML or YAML table), not a {type(value).__name__}; use plain=True "
                            "for other values", "default")
    return value


def override_problems(declared: list[str], options: FrontendOptions) -> list[tuple[str, str]]:
    """FC540/FC541 messages: overrides naming no Config of the flow, or both a file and a value."""
    out = []
    known = ", ".join(sorted(declared)) or "none"
    for flag, pairs in (("--config", options.config_paths), ("--config-value", options.config_values)):
        for name, _ in pairs:
            if name not in declared:
                out.append(("FC540", f"{flag} {name}: the flow declares no Config named '{name}' "
                                     f"(its configs: {known})"))
    both = sorted({n for n, _ in options.config_paths} & {n for n, _ in options.config_values})
    for name in both:
        out.append(("FC541", f"config '{name}' is given both --config and --config-value; give one"))
    return out


def options_from_settings(settings: Any) -> FrontendOptions:
    """The front end's options from the settings `config`, `config_value`, `resolve_env` (read
    by name: the front end does not import the settings module)."""
    if settings is None:
        return FrontendOptions()
    return FrontendOptions(tuple(getattr(settings, "config", ()) or ()),
                           tuple(getattr(settings, "config_value", ()) or ()),
                           bool(getattr(settings, "resolve_env", False)),
                           bool(getattr(settings, "allow_outside_files", False)))
