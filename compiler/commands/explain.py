"""`flowc explain CODE`: what a diagnostic means, why, an example and the fix."""
from __future__ import annotations

import sys

import click


@click.command("explain")
@click.argument("code", required=False)
@click.option("--list", "list_all", is_flag=True, help="List every code with its title.")
def explain(code, list_all):
    """Print the documentation of diagnostic CODE (e.g. FC109)."""
    from compiler.diagnostics.codes import all_codes, get
    from compiler.targets import load_all_codes

    load_all_codes()      # each target's codes, as its registry entry names them

    if list_all or not code:
        for c in all_codes():
            click.echo(f"{c.code}  {c.severity:7}  {c.title}")
        return
    c = get(code)
    if c is None:
        click.echo(f"flowc: unknown diagnostic code {code!r} (see `flowc explain --list`)", err=True)
        sys.exit(2)
    click.echo(c.doc(), nl=False)
