"""`flowc run` with remote steps: steps with @batch / @kubernetes (or every step, with
`--with batch|kubernetes`) run on that backend, the others as local processes; the data moves
between them through the datastore, which therefore must be s3:// (both sides reach it).

Order, all before any task starts: settings -> plan (with `--with`) -> parameters -> datastore
check -> backend settings -> preflight (compiler.preflight) -> code package upload -> job
definitions. Then compiler.runner.local.LocalRunner schedules every task; remote ones go through
compiler.runner.backends.{batch,kubernetes}. A flow without remote steps runs exactly as before
(compiler.runner.run_flow).
"""
from __future__ import annotations

import os
import sys
from typing import Any

from compiler.runner import (
    RunError,
    build_run_package,
    cached_package,
    claim_run,
    default_datastore,
    drive,
    normalize_datastore,
    parse_params,
    resolve_run_params,
    run_flow,
)

# The settings `flowc run` takes as flags (the rest come from FLOWC_* / [tool.flowc]).
RUN_SETTINGS = ("batch_queue", "batch_job_role_arn", "k8s_namespace", "image", "aws_region",
                "s3_endpoint")


def _plan(flow_path: str, flow_name, settings, with_options, echo):
    from compiler.diagnostics import has_errors
    from compiler.frontend.cache import default_cache
    from compiler.runtime_spec import plan_for_file

    plan, diagnostics = plan_for_file(flow_path, flow_name, settings, tuple(with_options), cache=default_cache())
    if diagnostics:
        from compiler.runner import _print_diagnostics

        _print_diagnostics(diagnostics, echo)
    if plan is None or has_errors(diagnostics):
        return None
    return plan


def remote_datastore_error(root: str, steps) -> str | None:
    if root.startswith("s3://"):
        return None
    names = ", ".join("%s (%s)" % (s.name, s.compute.backend) for s in steps)
    return ("steps %s run remotely, so the datastore must be s3://bucket/prefix that both this "
            "machine and the remote tasks reach, not %s: set FLOWC_DATASTORE or pass --datastore"
            % (names, root))


def run_hybrid(flow_path: str, *, flow_name=None, params=(), max_workers=None, datastore=None,
               run_id=None, package_include=(), with_options=(), setting_flags=None, stream=None,
               tty=None, echo=None, k8s_api_client=None, aws_session=None, **run_options) -> int:
    """Run a flow, each step where it asks to run. Returns 0 ok, 1 failed / diagnostics, 2 bad input."""
    from compiler.settings import SettingsError, resolve

    echo = echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if not os.path.isfile(flow_path):
        echo("flowc: error: cannot read %s: no such file" % flow_path)
        return 2
    flow_path = os.path.abspath(flow_path)
    flow_dir = os.path.dirname(flow_path)
    flags = {k: v for k, v in (setting_flags or {}).items() if v is not None}
    if datastore:
        flags["datastore"] = datastore
    try:
        settings = resolve(flags, flow_dir=flow_dir)
    except SettingsError as error:
        echo("flowc: error: %s" % error)
        return 2
    plan = _plan(flow_path, flow_name, settings, with_options, echo)
    if plan is None:
        return 1
    from compiler.preflight import steps_by_backend

    groups = steps_by_backend(plan)
    if not groups:   # nothing remote: the plain local run, on the plan already made
        from compiler import runtime_spec

        return run_flow(flow_path, flow_name=flow_name, params=params, max_workers=max_workers,
                        datastore=settings.datastore, run_id=run_id,
                        package_include=package_include, stream=stream, tty=tty, echo=echo,
                        spec=runtime_spec.build(plan), **run_options)
    try:
        prepared = _prepare(plan, settings, groups, flow_path, params, run_id, echo,
                            k8s_api_client, aws_session)
    except RunError as error:
        echo("flowc: error: %s" % error)
        return error.exit_code
    spec, raw, root, ds, run_id, settings = prepared
    return _execute(plan, spec, raw, root, ds, run_id, settings, groups, flow_path,
                    package_include, max_workers, stream, tty, echo, k8s_api_client, aws_session,
                    run_options)


def _prepare(plan, settings, groups, flow_path, params, run_id, echo, k8s_api_client, aws_session):
    from compiler import runtime_spec
    from compiler.preflight import check_batch, check_kubernetes
    from compiler.runner.backends import BackendError

    flow_dir = os.path.dirname(flow_path)
    spec = runtime_spec.build(plan)
    raw = resolve_run_params(spec, parse_params(params), flow_dir)
    root = normalize_datastore(settings.datastore or default_datastore(flow_path))
    remote = [s for steps in groups.values() for s in steps]
    problem = remote_datastore_error(root, remote)
    if problem:
        raise RunError(problem)
    endpoint = settings.s3_endpoint or os.environ.get("AWS_ENDPOINT_URL")
    settings = settings.with_values(datastore=root, **({"s3_endpoint": endpoint} if endpoint else {}))
    errors, warnings = [], []
    try:
        from compiler.runner.backends.kubernetes import load_api_client

        if groups.get("kubernetes") and k8s_api_client is None:
            k8s_api_client = load_api_client(settings)
    except BackendError as error:
        raise RunError(str(error)) from None
    for part in (check_batch(groups.get("batch", []), settings, session=aws_session),
                 check_kubernetes(groups.get("kubernetes", []), settings, api_client=k8s_api_client)):
        errors += part.errors
        warnings += part.warnings
    for warning in warnings:
        echo("flowc: warning: %s" % warning)
    if errors:
        raise RunError("preflight: these steps can never start:\n  " + "\n  ".join(errors))
    ds, run_id = claim_run(root, spec["flow_name"], run_id)     # nothing written before this
    return spec, raw, root, ds, run_id, settings


def _execute(plan, spec, raw, root, ds, run_id, settings, groups, flow_path, package_include,
             max_workers, stream, tty, echo, k8s_api_client, aws_session, run_options=None) -> int:
    from compiler.compute.container import code_url as package_url
    from compiler.runner.backends import BackendError

    flow_dir = os.path.dirname(flow_path)
    pkg = build_run_package(flow_path, spec, package_include, echo)
    code_url = package_url(root, spec["flow_name"], pkg.sha256)
    try:
        _upload(pkg, code_url, settings, aws_session)
        backends: dict[str, Any] = {}
        for name, steps in groups.items():
            backends[name] = _backend(name, settings, spec["flow_name"], pkg.sha256, code_url,
                                      k8s_api_client, aws_session)
            backends[name].prepare(steps)
    except BackendError as error:
        echo("flowc: error: %s" % error)
        return 2
    zip_path = cached_package(pkg)
    remote = {s.name: (backends[b], s, ds) for b, steps in groups.items() for s in steps}
    where = ", ".join("%s: %s" % (b, " ".join(s.name for s in steps)) for b, steps in groups.items())
    echo("flowc: running %s/%s (datastore %s, package %s; remote steps %s)"
         % (spec["flow_name"], run_id, root, pkg.sha256[:12], where))
    return drive(spec, zip_path, pkg.sha256, root, ds, run_id, raw, echo, stream,
                 dict(run_options or {}, max_workers=max_workers, cwd=flow_dir, stream=stream,
                      tty=tty, remote=remote))


def _upload(pkg, code_url: str, settings, aws_session) -> None:
    from compiler.compute import aws
    from compiler.runner.backends import BackendError

    session = aws_session or _session(settings)
    try:
        aws.upload_code_package(session.client("s3"), code_url, pkg.data)
    except Exception as error:  # noqa: BLE001 - name the URL
        raise BackendError("cannot store the code package at %s: %s" % (code_url, error)) from None


def _session(settings):
    from compiler.compute import aws

    return aws.session(settings)


def _backend(name, settings, flow_name, sha, code_url, k8s_api_client, aws_session):
    if name == "batch":
        from compiler.runner.backends.batch import BatchBackend

        return BatchBackend(settings, flow_name, sha, code_url, session=aws_session or _session(settings))
    from compiler.runner.backends.kubernetes import KubernetesBackend

    return KubernetesBackend(settings, flow_name, sha, code_url, api_client=k8s_api_client)
