"""The `flowc` command line: a thin click layer.

Commands are loaded lazily (module:function) so that `flowc check` never pays for boto3,
kubernetes or a target it does not use. Add a command by adding a line to COMMANDS.
"""
from __future__ import annotations

import importlib

import click

from compiler import __version__

# command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, str] = {
    "check": "compiler.commands.check:check",
    "graph": "compiler.commands.graph:graph",
    "explain": "compiler.commands.explain:explain",
    "compile": "compiler.commands.compile:compile_command",
    "deploy": "compiler.commands.deploy:deploy",
    "trigger": "compiler.commands.deploy:trigger",
    "status": "compiler.commands.deploy:status",
    "run": "compiler.commands.run:run",
    "show": "compiler.commands.show:show",
    "logs": "compiler.commands.logs:logs",
    "resume": "compiler.commands.resume:resume",
    "runs": "compiler.commands.runs:runs",
    "terminate": "compiler.commands.runs:terminate",
    "suspend": "compiler.commands.runs:suspend",
    "unsuspend": "compiler.commands.runs:unsuspend",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx):
        # no traceback from any command: one line naming the fix (compiler/commands/errors.py)
        from compiler.commands.errors import guarded

        with guarded():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flowc")
def main() -> None:
    """Compile Metaflow flows to Argo Workflows and AWS Step Functions, or run them locally."""


if __name__ == "__main__":
    main()
