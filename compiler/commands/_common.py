"""Helpers shared by the commands: diagnostics output and exit codes (0 clean, 1 errors, 2 usage/I/O)."""
from __future__ import annotations

import os
import sys

import click

from compiler.diagnostics import has_errors

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


def require_file(path: str) -> None:
    if not os.path.isfile(path):
        click.echo(f"flowc: error: cannot read {path}: no such file", err=True)
        sys.exit(EXIT_USAGE)


def emit_diagnostics(diagnostics, fmt: str = "text") -> None:
    if not diagnostics:
        return
    from compiler.diagnostics import render
    from compiler.frontend.source import SourceDecodeError, decode

    sources = {}
    for path in {d.path for d in diagnostics if d.path}:
        try:
            with open(path, "rb") as handle:
                sources[path] = decode(handle.read())      # PEP 263, as Python reads it
        except (OSError, SourceDecodeError):
            pass
    click.echo(render.render(diagnostics, fmt, sources), err=True, nl=False)


def exit_code_for(diagnostics) -> int:
    return EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK


def cache_option(command):
    """--cache-dir: where the analysis cache lives (compiler/frontend/cache.py)."""
    return click.option("--cache-dir", "cache_dir", default=None, type=click.Path(file_okay=False),
                        help="Analysis cache directory [env FLOWC_CACHE_DIR; default $XDG_CACHE_HOME/flowc; "
                             "FLOWC_NO_CACHE=1 turns it off].")(command)


def analysis_cache(cache_dir: str | None):
    """The AnalysisCache the command uses, or None when turned off."""
    from compiler.frontend.cache import AnalysisCache, default_dir

    directory = default_dir(cache_dir)
    return AnalysisCache(directory) if directory else None
