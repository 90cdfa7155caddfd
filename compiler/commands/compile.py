"""`flowc compile FLOW --target TARGET [--with ...] [-o DIR]` (targets: compiler.targets.REGISTRY)."""
from __future__ import annotations

import os
import sys

import click

from compiler.commands._common import cache_option
from compiler.settings import SPECS, SettingsError, resolve
from compiler.targets import names as target_names
from compiler.targets import spec as target_spec

# --target: every registered target and alias; the command gets the canonical name
TARGET = click.Choice(target_names())


def canonical_target(ctx, param, value):
    return target_spec(value).name if value is not None else None


def settings_options(command=None, *, only: tuple[str, ...] | None = None):
    """One --flag per setting (flags beat FLOWC_* env, [tool.flowc] and defaults); `only`: just
    the settings a command reads. A true/false setting is a flag pair (--production/--no-production).
    Every command that analyses a flow also takes --config/--config-value/--resolve-env
    (config_flags.py), which change what the front end reads."""
    from compiler.commands.config_flags import FLAG_SETTINGS, config_options

    def decorate(command):
        for spec in reversed(SPECS):
            if spec.name in FLAG_SETTINGS or (only is not None and spec.name not in only):
                continue
            helptext = f"{spec.help} [env {spec.env_var}]"
            if spec.is_bool:
                flag = f"{spec.flag}/--no-{spec.flag[2:]}"
                command = click.option(flag, spec.name, default=None, help=helptext)(command)
                continue
            multiple = spec.name == "package_include"
            command = click.option(spec.flag, spec.name, default=None, multiple=multiple, help=helptext)(command)
        return config_options(command)
    return decorate(command) if command is not None else decorate


def settings_from(flow_path: str, flags: dict):
    flags = {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in flags.items()}
    try:
        return resolve(flags, flow_dir=os.path.dirname(os.path.abspath(flow_path)))
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


def print_settings(settings, target: str | None = None) -> None:
    """Each setting, its value and source; not the settings only other targets read."""
    from compiler.targets import other_targets_settings

    hidden = other_targets_settings(target) if target else set()
    shown_settings = [row for row in settings.describe() if row[0] not in hidden]
    width = max(len(name) for name, _, _ in shown_settings)
    for name, value, source in shown_settings:
        shown = "(unset)" if value in (None, (), []) else value
        click.echo(f"{name:<{width}}  {shown!s:<40}  {source}")


@click.command("compile")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--target", "-t", "target", type=TARGET, required=True, callback=canonical_target,
              help="The workflow engine to compile for.")
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--with", "with_options", multiple=True, metavar="DECO[:k=v,...]",
              help="Attach a decorator to every step without one, e.g. kubernetes:cpu=2 or batch:queue=q.")
@click.option("-o", "--output-dir", default=None, type=click.Path(file_okay=False),
              help="Write a deployable bundle here instead of printing to stdout: one file per document, "
                   "the code package (<Flow>.code.zip) and <Flow>.manifest.json (what each file is, where "
                   "the package must be uploaded).")
@click.option("--show-config", is_flag=True, help="Print every setting and where its value came from, then exit.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="How diagnostics are printed.")
@settings_options
@cache_option
def compile_command(flow, target, flow_name, with_options, output_dir, show_config, fmt, cache_dir, **flags):
    """Compile FLOW into workflow documents for TARGET."""
    from compiler.commands._common import emit_diagnostics, exit_code_for, require_file
    from compiler.frontend.cache import default_dir
    from compiler.pipeline import bundle_files, compile_file, write_outputs

    settings = settings_from(flow, flags)
    if show_config:
        print_settings(settings, target)
        return
    require_file(flow)
    # A bundle is deployed like `flowc deploy` deploys: the same target options (on Argo with an
    # s3:// datastore the package is fetched from its URL, not embedded, so the YAML stays reviewable).
    options = target_spec(target).deployer_module().target_options(settings) if output_dir else {}
    result = compile_file(flow, target, flow_name=flow_name, settings=settings, with_options=tuple(with_options),
                          target_options=options, cache_dir=default_dir(cache_dir))
    emit_diagnostics(result.diagnostics, fmt)
    if not result.ok:
        sys.exit(exit_code_for(result.diagnostics))
    if output_dir:
        for written in write_outputs(bundle_files(result, target), output_dir):
            click.echo(written, err=True)
    else:
        docs = [f.content for f in result.files if f.stdout]
        sys.stdout.buffer.write(target_spec(target).stdout_separator.join(docs))
        sys.stdout.flush()


compile = compile_command
