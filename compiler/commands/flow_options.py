"""`flowc run FLOW --help` lists the flow's parameters; `flowc run FLOW --NAME VALUE` sets one, as
with Metaflow's `python flow.py run --NAME VALUE` (beside flowc's `--param NAME=VALUE`).

The options depend on the flow, so they are added when the command line is parsed: the first
argument that names a file is read by the front end (the flow is never imported) and one option
per declared Parameter / IncludeFile joins the command's options for that invocation only.
"""
from __future__ import annotations

import os
from typing import Any

import click

PREFIX = "flow_param__"
TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN", "json": "JSON"}


def _flow_path(args: list[str]) -> str | None:
    for arg in args:
        if not arg.startswith("-") and os.path.isfile(arg):
            return arg
    return None


def _flow_name(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--flow" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--flow="):
            return arg.split("=", 1)[1]
    return None


def declared_parameters(path: str, flow_name: str | None = None) -> list[Any]:
    """The flow's Parameter and IncludeFile declarations (Config values are not run-time options)."""
    from compiler.frontend.api import analyze_file
    from compiler.frontend.cache import default_cache

    analysis = analyze_file(path, flow_name, cache=default_cache())
    if analysis.model is None:
        return []
    return [p for p in analysis.model.parameters if p.kind in ("parameter", "include_file")]


def _help(p) -> str:
    parts = [p.help or ""]
    if p.kind == "include_file":
        parts.append("(IncludeFile: a path, read here)")
    if p.required:
        parts.append("[required]")
    elif p.has_default:
        default = p.default if isinstance(p.default, str) else repr(p.default)
        parts.append(f"[default: {default}]")
    return " ".join(part for part in parts if part)


def parameter_options(params: list[Any], taken: set[str]) -> list[click.Option]:
    """One option per parameter, `--NAME` as declared (and with `-` for `_`); a name that clashes
    with one of flowc's own options is left to `--param NAME=VALUE`."""
    options: list[click.Option] = []
    for p in params:
        flags = [f"--{p.name}"] + ([f"--{p.name.replace('_', '-')}"] if "_" in p.name else [])
        flags = [f for f in flags if f not in taken]
        if not flags:
            continue
        taken.update(flags)
        metavar = "PATH" if p.kind == "include_file" else TYPE_NAMES.get(p.type, "TEXT")
        # `required` is checked with the other values (a value may also come from --param)
        option = click.Option([*flags, f"{PREFIX}{len(options)}"], metavar=metavar, default=None,
                              multiple=bool(p.multiple), help=_help(p))
        option.flow_parameter = p.name          # type: ignore[attr-defined]  # the name as declared
        options.append(option)
    return options


class FlowCommand(click.Command):
    """A click command that grows the options of the flow named on its command line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        path = _flow_path(args)
        if path is not None:
            taken = {opt for param in self.params for opt in (*param.opts, *param.secondary_opts)}
            try:
                extra = parameter_options(declared_parameters(path, _flow_name(args)), taken)
            except Exception:  # noqa: BLE001 - the run itself reports what is wrong with the file
                extra = []
            ctx.meta["flowc.flow_parameters"] = extra   # this invocation's only: never self.params
        return super().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = [*self.params, *ctx.meta.get("flowc.flow_parameters", [])]
        help_option = self.get_help_option(ctx)
        return params + ([help_option] if help_option is not None else [])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if "flowc.flow_parameters" not in ctx.meta:
            with formatter.section("Flow parameters"):
                formatter.write_text("`flowc run FLOW --help` lists FLOW's parameters; set them with "
                                     "--NAME VALUE or --param NAME=VALUE.")
        super().format_epilog(ctx, formatter)


def take_parameter_values(kwargs: dict[str, Any]) -> tuple[str, ...]:
    """Remove the flow's --NAME options from a command's kwargs; return them as NAME=VALUE."""
    ctx = click.get_current_context(silent=True)
    names = {o.name: o.flow_parameter for o in (ctx.meta.get("flowc.flow_parameters", []) if ctx else [])}
    out = []
    for key in [k for k in kwargs if k.startswith(PREFIX)]:
        value = kwargs.pop(key)
        if value is None or value == () or key not in names:
            continue
        for v in (value if isinstance(value, tuple) else (value,)):
            out.append(f"{names[key]}={v}")
    return tuple(out)
