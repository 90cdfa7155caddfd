"""The options that change what the front end reads, shared by compile, deploy, trigger, status
and run: `--config NAME PATH`, `--config-value NAME TEXT` (Metaflow's spellings) and
`--resolve-env`. They land in the command's setting flags (settings `config`, `config_value`,
`resolve_env`), so FLOWC_CONFIG / [tool.flowc] work too and --show-config prints them."""
from __future__ import annotations

import os

import click

FLAG_SETTINGS = ("config", "config_value", "resolve_env")


def _absolute(ctx, param, value):
    # a --config path is relative to where flowc is started (as any command-line path)
    return tuple((name, os.path.abspath(path)) for name, path in value) or None


def config_options(command):
    command = click.option("--resolve-env", "resolve_env", is_flag=True, default=None,
                           help="Read os.getenv(...) / os.environ[...] in decorator arguments from this "
                                "environment; the output records the variables read [env FLOWC_RESOLVE_ENV].")(command)
    command = click.option("--config-value", "config_value", nargs=2, multiple=True, metavar="NAME TEXT",
                           callback=lambda ctx, param, value: value or None,
                           help="The value of Config NAME, as text in its format (JSON unless its parser "
                                "says otherwise); repeatable.")(command)
    command = click.option("--config", "config", nargs=2, multiple=True, metavar="NAME PATH",
                           callback=_absolute,
                           help="Read Config NAME from PATH instead of its default; repeatable.")(command)
    return command
