"""The one parameter path: parsing and converting flow parameter values, for the task, `flowc run`,
`flowc trigger` and `flowc deploy` (the compiler imports this module; it imports nothing of the
compiler). A declaration is the runtime spec's parameter dict (compiler/runtime_spec.py):
name, attr, kind (parameter | include_file | config), type (str | int | float | bool | json),
has_default, default, required, multiple, separator, is_text, encoding.

Booleans: one spelling set, case-insensitive and stripped, the one click's BOOL (and so Metaflow's
command line) accepts: TRUE_WORDS are true, FALSE_WORDS are false, anything else is an error.

On the command line a value is `--param NAME=VALUE` (one argv entry, no quoting), or
`--param-b64 NAME=B64`: standard base64 (RFC 4648, with padding) of the value's UTF-8 bytes. An
engine that substitutes text more than once (Argo) passes the b64 form, whose alphabet has no braces,
so no value can turn into a template expression.
"""
from __future__ import annotations

import binascii
import json
import os

TRUE_WORDS = ("1", "true", "t", "yes", "y", "on")
FALSE_WORDS = ("0", "false", "f", "no", "n", "off")


class ParamError(ValueError):
    """A bad parameter assignment or value; the message names the parameter."""


# Configs are not run-time parameters: their values are fixed when the flow is compiled.
CONFIG_NOT_PARAMETER = ("'%s' is a Config, not a Parameter: its value is fixed when the flow is compiled; "
                        "pass --config %s PATH (a file) or --config-value %s VALUE to flowc run, compile "
                        "or deploy instead")


def split_assignment(item: str, option: str = "--param") -> tuple[str, str]:
    """`NAME=VALUE` -> (NAME, VALUE); the value may contain `=`."""
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ParamError("bad %s %r: use name=value" % (option, item))
    return name, value


def decode_b64(name: str, text: str) -> str:
    """The value of `--param-b64 NAME=B64`."""
    try:
        return binascii.a2b_base64(_strict_b64(text)).decode("utf-8")
    except (binascii.Error, ValueError) as error:
        raise ParamError("--param-b64 %s: not standard base64 of a UTF-8 value (%s)" % (name, error)) from None


def _strict_b64(text: str) -> bytes:
    data = text.strip().encode("ascii")
    if len(data) % 4 or data.rstrip(b"=").translate(None, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"):
        raise ValueError("only A-Z a-z 0-9 + / and = padding, in groups of 4")
    return data


def encode_b64(value: str) -> str:
    """The `--param-b64` form of a value (what an engine passes)."""
    return binascii.b2a_base64(value.encode("utf-8"), newline=False).decode("ascii")


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("expected one of %s (true) or %s (false)" % ("/".join(TRUE_WORDS), "/".join(FALSE_WORDS)))


def convert(p: dict, raw):
    """The value the step sees for declaration `p` given `raw` (text from a command line, or JSON)."""
    t = p.get("type") or "str"
    try:
        if p.get("kind") == "config":
            from runtime_shim import configs

            return configs.value_of(p, raw)
        if p.get("kind") == "include_file":
            if isinstance(raw, str) and not p.get("is_text", True):
                return raw.encode("utf-8", "surrogateescape")
            return raw
        if p.get("multiple") and isinstance(raw, (list, tuple)):
            return [convert(dict(p, multiple=False), r) for r in raw]
        if p.get("separator") and isinstance(raw, str):
            return [convert(dict(p, separator=None), r) for r in raw.split(p["separator"])]
        if t == "json":
            return json.loads(raw) if isinstance(raw, (str, bytes)) else raw
        if not isinstance(raw, str):
            if t == "float" and isinstance(raw, (int, float)) and not isinstance(raw, bool):
                return float(raw)
            if t == "int" and isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            if t == "bool" and isinstance(raw, bool):
                return raw
            if t == "str" or raw is None:
                return raw
            raw = str(raw)
        if t == "int":
            return int(raw)
        if t == "float":
            return float(raw)
        if t == "bool":
            return parse_bool(raw)
        return raw
    except (ValueError, TypeError) as e:
        raise ParamError("bad value %r for parameter '%s' (%s): %s" % (raw, p["name"], t, e)) from None


def check(p: dict, raw: str) -> str | None:
    """Why `raw` would not convert for `p` (None when it would): the check before anything runs."""
    if p.get("kind") == "include_file":
        return None
    try:
        convert(p, raw)
    except ParamError as e:
        return str(e)
    return None


def canonical_names(declared: list[dict], given: dict) -> dict:
    """`given` keyed by declared names: the attribute spelling (label_with_dash for label-with-dash)
    is accepted too, as Metaflow does."""
    names = {p["name"] for p in declared}
    by_attr = {p.get("attr") or p["name"].replace("-", "_"): p["name"] for p in declared}
    return {(k if k in names else by_attr.get(k, k)): v for k, v in given.items()}


def from_argv(declared: list[dict], plain: list[str], b64: list[str]) -> dict:
    """The given values of `--param` / `--param-b64` entries (in that order of precedence: later wins).
    An empty value of an optional parameter whose default is None means "not given": engines such
    as Argo must pass every argument, so "" stands in."""
    by_name = {p["name"]: p for p in declared}
    given = {}
    pairs = [split_assignment(item) for item in plain]
    for item in b64:
        name, text = split_assignment(item, "--param-b64")
        pairs.append((name, decode_b64(name, text)))
    for name, value in pairs:
        decl = by_name.get(name)
        if value == "" and decl is not None and not decl.get("required") and decl.get("default") is None:
            continue
        given[name] = value
    return given


# An IncludeFile value that names a file of the code package instead of carrying content: what a
# compiled Argo workflow passes for a default too large (or not text) for a workflow argument.
PACKAGED_FILE = "flowc-packaged-file:"


def read_include(p: dict, path: str, base_dir: str | None = None):
    """The content of IncludeFile `p` from `path` (relative paths: from `base_dir` first, then the
    current directory): text as str, bytes as a str with surrogate escapes (the task encodes back)."""
    candidates = [os.path.join(base_dir, path)] if base_dir and not os.path.isabs(path) else []
    candidates.append(path)
    found = next((c for c in candidates if os.path.isfile(c)), None)
    if found is None:
        raise ParamError("parameter '%s': no such file %s" % (p["name"], path))
    with open(found, "rb") as f:
        data = f.read()
    if p.get("is_text", True):
        try:
            return data.decode(p.get("encoding") or "utf-8")
        except UnicodeDecodeError as e:
            raise ParamError("parameter '%s': %s is not %s text: %s"
                             % (p["name"], found, p.get("encoding") or "utf-8", e)) from None
    return data.decode("utf-8", "surrogateescape")


def _packaged(p: dict, path: str, base_dir: str | None):
    """The content of a file of the code package (a relative path inside the flow's folder)."""
    parts = path.replace("\\", "/").split("/")
    if not base_dir or not path or os.path.isabs(path) or ".." in parts:
        raise ParamError("parameter '%s': %s%s does not name a file of the code package"
                         % (p["name"], PACKAGED_FILE, path))
    if not os.path.isfile(os.path.join(base_dir, path)):
        raise ParamError("parameter '%s': the code package has no file %s" % (p["name"], path))
    return read_include(p, path, base_dir)


def resolve(declared: list[dict], given: dict, base_dir: str | None = None) -> dict:
    """attr -> converted value, for every declared parameter. Default paths of IncludeFile are
    read relative to `base_dir` (the flow's directory); no chdir needed. A Config's value is its
    default, resolved by the compiler; giving one is an error (CONFIG_NOT_PARAMETER)."""
    by_name = {p["name"]: p for p in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise ParamError("unknown parameter(s): %s (declared: %s)"
                         % (", ".join(unknown), ", ".join(sorted(by_name)) or "none"))
    for name in sorted(given):
        if by_name[name].get("kind") == "config":
            raise ParamError(CONFIG_NOT_PARAMETER % (name, name, name))
    out = {}
    for name, p in by_name.items():
        if p.get("kind") == "config":      # the value the compiler resolved (runtime_shim.configs)
            out[p["attr"]] = convert(p, p.get("default"))
        elif name in given and given[name] is not None:
            value = given[name]
            if p.get("kind") == "include_file" and isinstance(value, str) and value.startswith(PACKAGED_FILE):
                value = _packaged(p, value[len(PACKAGED_FILE):], base_dir)
            out[p["attr"]] = convert(p, value)
        elif p.get("has_default") and p.get("default") is not None:
            default = p["default"]
            if p.get("kind") == "include_file" and isinstance(default, str):
                path = os.path.join(base_dir, default) if base_dir and not os.path.isabs(default) else default
                try:
                    with open(path, "r" if p.get("is_text", True) else "rb") as f:
                        default = f.read()
                except OSError as e:
                    if p.get("kind") == "include_file":
                        raise ParamError("parameter '%s': cannot read %s: %s" % (name, default, e)) from None
            out[p["attr"]] = convert(p, default)
        elif p.get("required"):
            raise ParamError("missing required parameter '%s'" % name)
        else:
            out[p["attr"]] = None
    return out
