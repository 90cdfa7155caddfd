"""`flowc compile FLOW --target argo|stepfunctions [--with ...] [-o DIR]`."""
from __future__ import annotations

import os
import sys

import click

from compiler.settings import SPECS, SettingsError, resolve


def settings_options(command):
    """One --flag per setting (flags beat FLOWC_* env, [tool.flowc] and defaults)."""
    for spec in reversed(SPECS):
        multiple = spec.name == "package_include"
        command = click.option(spec.flag, spec.name, default=None, multiple=multiple,
                               help=f"{spec.help} [env {spec.env_var}]")(command)
    return command


def settings_from(flow_path: str, flags: dict):
    flags = {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in flags.items()}
    try:
        return resolve(flags, flow_dir=os.path.dirname(os.path.abspath(flow_path)))
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


def print_settings(settings) -> None:
    width = max(len(name) for name, _, _ in settings.describe())
    for name, value, source in settings.describe():
        shown = "(unset)" if value in (None, (), []) else value
        click.echo(f"{name:<{width}}  {shown!s:<40}  {source}")


@click.command("compile")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", "target", type=click.Choice(["argo", "stepfunctions"]), required=True,
              help="The workflow engine to compile for.")
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--with", "with_options", multiple=True, metavar="DECO[:k=v,...]",
              help="Attach a decorator to every step without one, e.g. kubernetes:cpu=2 or batch:queue=q.")
@click.option("-o", "--output-dir", default=None, type=click.Path(file_okay=False),
              help="Write one file per document here instead of printing to stdout.")
@click.option("--show-config", is_flag=True, help="Print every setting and where its value came from, then exit.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="How diagnostics are printed.")
@settings_options
def compile_command(flow, target, flow_name, with_options, output_dir, show_config, fmt, **flags):
    """Compile FLOW into workflow documents for TARGET."""
    from compiler.commands._common import emit_diagnostics, exit_code_for, require_file
    from compiler.pipeline import compile_file, write_outputs

    settings = settings_from(flow, flags)
    if show_config:
        print_settings(settings)
        return
    require_file(flow)
    result = compile_file(flow, target, flow_name=flow_name, settings=settings, with_options=tuple(with_options))
    emit_diagnostics(result.diagnostics, fmt)
    if not result.ok:
        sys.exit(exit_code_for(result.diagnostics))
    if output_dir:
        for written in write_outputs(result.files, output_dir):
            click.echo(written, err=True)
    else:
        docs = [f.content for f in result.files if f.stdout]
        sys.stdout.buffer.write(b"---\n".join(docs) if target == "argo" else b"".join(docs))
        sys.stdout.flush()


compile = compile_command
