"""`flowc check FILE...`: diagnostics only (CI, pre-commit)."""
from __future__ import annotations

import os
import sys

import click

from compiler.commands._common import analysis_cache, cache_option
from compiler.commands.config_flags import config_options

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def report_internal(tb: str) -> None:
    click.echo("flowc: internal error, please report it (set FLOWC_DEBUG=1 for details)", err=True)
    if os.environ.get("FLOWC_DEBUG") == "1":
        click.echo(tb, err=True)


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--flow", "flow_name", default=None, help="Flow class to check when a file has several.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="Output format.")
@config_options
@cache_option
def check(files, flow_name, fmt, cache_dir, **flags):
    """Report every diagnostic of the flow FILE(s). Exit 0 clean, 1 errors, 2 usage/I-O, 70 bug.

    What `compile` reports for any target: the front end's diagnostics, then, for a flow without
    errors, what lowering finds (IncludeFile defaults outside the folder, @trigger problems)."""
    try:
        from compiler.commands.compile import settings_from
        from compiler.diagnostics import has_errors, render
        from compiler.frontend.api import analyze_file
        from compiler.frontend.configs import options_from_settings
    except Exception:  # pragma: no cover
        import traceback
        report_internal(traceback.format_exc())
        sys.exit(EXIT_INTERNAL)
    for f in files:
        if not os.path.isfile(f):
            click.echo(f"flowc: cannot read {f}: no such file", err=True)
            sys.exit(EXIT_USAGE)
    all_diags, sources = [], {}
    internal = None
    try:
        cache = analysis_cache(cache_dir)
        for f in files:
            settings = settings_from(f, flags)
            a = analyze_file(f, flow_name, options=options_from_settings(settings), cache=cache)
            if a.internal_error:
                internal = a.internal_error
            all_diags.extend(a.diagnostics)
            if a.graph is not None and not has_errors(a.diagnostics):
                all_diags.extend(_after_lowering(a, settings))
            sources[f] = a.source
        if fmt == "json":
            click.echo(render.render_json(all_diags), nl=False)
        elif fmt == "github":
            click.echo(render.render_github(all_diags), nl=False)
        else:
            click.echo(render.render_text(all_diags, sources), nl=False)
            n_err = sum(d.is_error for d in all_diags)
            n_warn = len(all_diags) - n_err
            if all_diags:
                click.echo(f"{n_err} error(s), {n_warn} warning(s)", err=True)
    except Exception:
        import traceback
        report_internal(traceback.format_exc())
        sys.exit(EXIT_INTERNAL)
    if internal:
        report_internal(internal)
        sys.exit(EXIT_INTERNAL)
    if any(d.code == "FC002" for d in all_diags):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_ERRORS if has_errors(all_diags) else EXIT_OK)


def _after_lowering(analysis, settings) -> list:
    """The target-independent problems found once the flow is lowered (as compile finds them)."""
    from dataclasses import replace

    from compiler import triggers
    from compiler.lower import include_file_problems, lower

    plan = lower(analysis.graph, settings, [])
    found = include_file_problems(plan) + triggers.analyze(plan)[1]
    return [d if d.path else replace(d, path=analysis.path) for d in found]
