"""`flowc run FLOW [--param k=v ...]`: run a flow locally with flowc's runtime."""
from __future__ import annotations

import sys

import click


@click.command("run")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--flow", "flow_name", default=None, help="The flow class, when the file holds several.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter value (repeatable). IncludeFile: a path, read here.")
@click.option("--max-workers", type=click.IntRange(1, 1024), default=None,
              help="How many tasks run at once (default: 2 x CPUs, at most 16).")
@click.option("--datastore", default=None, metavar="URI",
              help="file:///abs/path or s3://bucket/prefix (default: $FLOWC_DATASTORE, else "
                   ".flowc beside the flow).")
@click.option("--run-id", default=None, help="The run id (default: a timestamp).")
@click.option("--package-include", multiple=True, metavar="GLOB",
              help="Extra files (globs relative to the flow's directory) for the code package.")
def run(flow, flow_name, params, max_workers, datastore, run_id, package_include):
    """Run FLOW locally: every task as `python -m runtime_shim task` from the code package."""
    from compiler.runner import run_flow

    sys.exit(run_flow(flow, flow_name=flow_name, params=params, max_workers=max_workers,
                      datastore=datastore, run_id=run_id, package_include=package_include))
