"""Lowering: a clean FlowGraph + settings + `--with` decorators -> the target-neutral FlowPlan.

Compute is resolved here, once, for every target: `@resources` is a hint that every backend reads,
`@kubernetes` / `@batch` pin a backend, and where several give a value the largest wins (as
Metaflow does). `--with NAME[:k=v,...]` attaches a decorator to every step that has none of that
kind (for compute decorators: none of either kind). Every default is applied here too: decorator
defaults (compiler/decorators.py), the settings' image, queue and roles, timeout backstops,
parameter default text and the workflow's name parts, so that targets can read the plan without fallbacks.
"""
from __future__ import annotations

import getpass
import json
import os
import re
from dataclasses import dataclass, fields
from typing import Any, Iterable

# The runtime enforces @timeout itself (so @catch can catch a timeout); the platform's deadlines
# are backstops behind it, by compute/'s rules: Batch attempt and state timeouts
# (container.backstop_seconds) and pod/Job deadlines, which also cover the image pull
# (kubernetes.pod_deadline_seconds).
from compiler.compute.container import TIMEOUT_MARGIN_SECONDS, backstop_seconds
from compiler.compute.kubernetes import pod_deadline_seconds
from compiler.decorators import COMPUTE_DECORATORS, STEP_DECORATORS, WITH_DECORATORS, default, number_problem
from compiler.diagnostics import ERROR, Diagnostic
from compiler.frontend.model import Decorator, FlowGraph, GraphNode, ParameterDecl, Span
from compiler.ir import (
    DEFAULT_CPU,
    DEFAULT_DISK_MB,
    DEFAULT_MEMORY_MB,
    Compute,
    FlowPlan,
    ParameterPlan,
    Retry,
    Schedule,
    StepPlan,
)
from compiler.settings import Settings

_WITH_RE = re.compile(r"^(?P<name>[a-z_]+)(?::(?P<args>.*))?$")


@dataclass(frozen=True)
class WithSpec:
    """One `--with NAME[:k=v,...]` option, parsed."""

    name: str
    args: dict[str, Any]


class WithError(ValueError):
    pass


def _scalar(text: str) -> Any:
    text = text.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_with(option: str) -> WithSpec:
    """`kubernetes:cpu=2,memory=8000,image=python:3.11` -> WithSpec. Values are ints, floats, bools or text."""
    match = _WITH_RE.match(option.strip())
    if not match or match.group("name") not in WITH_DECORATORS:
        raise WithError(f"--with {option!r}: expected one of {', '.join(WITH_DECORATORS)}, optionally followed by :key=value,...")
    name = match.group("name")
    known = STEP_DECORATORS.get(name, {})
    args: dict[str, Any] = {}
    raw = match.group("args")
    if raw:
        # Values may hold ':' (images) but not ','; a comma inside a value is not supported.
        for part in raw.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or not key:
                raise WithError(f"--with {option!r}: {part!r} is not key=value")
            if key not in known:
                raise WithError(f"--with {option!r}: @{name} has no argument {key!r} "
                                f"(known: {', '.join(sorted(known))})")
            args[key] = _scalar(value)
            problem = known[key](args[key])
            if problem:
                raise WithError(f"--with {option!r}: {key}={value} {problem}")
    for key, problem in number_problem(name, args):
        raise WithError(f"--with {option!r}: {key}: {problem}")
    return WithSpec(name, args)


def _num(value: Any, default: float | None = None) -> float | None:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _num_or_default(deco: Decorator | WithSpec, name: str, arg: str) -> float:
    """`@name(arg=...)` as a number; the decorator's default when absent or not a number."""
    value = _num(deco.args.get(arg))
    return value if value is not None else float(default(name, arg))  # type: ignore[arg-type]


def _max(*values: float | None) -> float:
    return max(v for v in values if v is not None)


def _pairs(mapping: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(mapping, str):  # Metaflow also accepts "k=v,k2=v2" for node_selector
        mapping = dict(item.split("=", 1) for item in mapping.split(",") if "=" in item)
    if not isinstance(mapping, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(v) for v in value)


def _volumes(value: Any, default_path: str) -> tuple[tuple[str, str], ...]:
    """Metaflow's `source[:container path]` strings (one string or a list); `default_path` % source
    when no path is given."""
    items = [value] if isinstance(value, str) else list(value or ())
    out = []
    for item in items:
        source, sep, path = str(item).partition(":")
        out.append((source, path if sep else default_path % source))
    return tuple(out)


# @kubernetes(security_context=...): Metaflow's keys -> the container's securityContext fields
_SECURITY_CONTEXT = {"privileged": "privileged", "allow_privilege_escalation": "allowPrivilegeEscalation",
                     "run_as_user": "runAsUser", "run_as_group": "runAsGroup", "run_as_non_root": "runAsNonRoot",
                     "read_only_root_filesystem": "readOnlyRootFilesystem"}


def _security_context(value: Any) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((_SECURITY_CONTEXT.get(str(k), str(k)), v) for k, v in value.items() if v is not None))


def resolve_compute(decorators: dict[str, Decorator | WithSpec], settings: Settings | None = None) -> Compute:
    settings = settings if settings is not None else Settings()
    resources = decorators.get("resources")
    pinned_name = next((n for n in COMPUTE_DECORATORS if n in decorators), None)
    pinned = decorators.get(pinned_name) if pinned_name else None
    hint = resources.args if resources else {}
    args = pinned.args if pinned else {}

    cpu = _max(DEFAULT_CPU, _num(hint.get("cpu")), _num(args.get("cpu")))
    memory = _max(DEFAULT_MEMORY_MB, _num(hint.get("memory")), _num(args.get("memory")))
    disk = _max(DEFAULT_DISK_MB, _num(hint.get("disk")), _num(args.get("disk")))
    gpu = _max(0, _num(hint.get("gpu")), _num(args.get("gpu")))
    shm = [v for v in (_num(hint.get("shared_memory")), _num(args.get("shared_memory"))) if v is not None]
    tolerations = args.get("tolerations") or ()
    return Compute(
        backend=pinned_name,
        cpu=cpu if cpu != int(cpu) else float(int(cpu)),
        memory=int(memory),
        gpu=int(gpu),
        disk=int(disk),
        shared_memory=int(max(shm)) if shm else None,
        image=str(args.get("image") or settings.image),
        namespace=args.get("namespace") or settings.k8s_namespace,
        service_account=args.get("service_account"),
        node_selector=_pairs(args.get("node_selector")),
        tolerations=tuple(tuple(sorted(t.items())) for t in tolerations if isinstance(t, dict)),
        k8s_secrets=_names(args.get("secrets")) if pinned_name == "kubernetes" else (),
        labels=_pairs(args.get("labels")),
        annotations=_pairs(args.get("annotations")),
        gpu_vendor=str(args.get("gpu_vendor") or default("kubernetes", "gpu_vendor")).lower(),
        image_pull_policy=args.get("image_pull_policy"),
        persistent_volume_claims=_pairs(args.get("persistent_volume_claims")),
        # queue and roles: for every step not on Kubernetes (Step Functions runs unpinned steps on Batch)
        queue=(args.get("queue") or settings.batch_queue) if pinned_name != "kubernetes" else None,
        iam_role=(args.get("iam_role") or settings.batch_job_role_arn) if pinned_name != "kubernetes" else None,
        execution_role=((args.get("execution_role") or settings.batch_execution_role_arn)
                        if pinned_name != "kubernetes" else None),
        use_tmpfs=bool(args.get("use_tmpfs") or False),
        tmpfs_size=int(args["tmpfs_size"]) if args.get("tmpfs_size") is not None else None,
        tmpfs_path=str(args.get("tmpfs_path") or default(pinned_name or "batch", "tmpfs_path")),
        max_swap=int(args["max_swap"]) if args.get("max_swap") is not None else None,
        swappiness=int(args["swappiness"]) if args.get("swappiness") is not None else None,
        privileged=bool(args.get("privileged") or False),
        **(_kubernetes_extras(args) if pinned_name == "kubernetes" else {}),
        **(_batch_extras(args) if pinned_name == "batch" else {}),
    )


def _kubernetes_extras(args: dict[str, Any]) -> dict[str, Any]:
    qos = args.get("qos")
    return dict(
        image_pull_secrets=_names(args.get("image_pull_secrets")),
        qos=str(qos).lower() if qos else None,
        extended_resources=_pairs(args.get("extended_resources")),
        security_context=_security_context(args.get("security_context")),
    )


def _batch_extras(args: dict[str, Any]) -> dict[str, Any]:
    log_options = args.get("log_options")
    if isinstance(log_options, (list, tuple)):     # Metaflow: ["key:value", ...]
        log_options = dict(str(o).split(":", 1) for o in log_options if ":" in str(o))
    elif isinstance(log_options, str):
        log_options = dict([log_options.split(":", 1)]) if ":" in log_options else {}
    return dict(
        inferentia=int(_num(args.get("inferentia"), 0) or _num(args.get("trainium"), 0) or 0),
        efa=int(_num(args.get("efa"), 0) or 0),
        host_volumes=_volumes(args.get("host_volumes"), "%s"),
        efs_volumes=_volumes(args.get("efs_volumes"), "/mnt/%s"),
        batch_tags=_pairs(args.get("aws_batch_tags")),
        ephemeral_storage=int(args["ephemeral_storage"]) if args.get("ephemeral_storage") is not None else None,
        log_driver=str(args["log_driver"]) if args.get("log_driver") else None,
        log_options=_pairs(log_options),
    )


def _secret_sources(secrets: Decorator | WithSpec | None) -> list[Any]:
    """@secrets(sources=...) as ids or dicts; @secrets(role=...) goes into each source that names
    no role of its own (Metaflow's precedence: source, then decorator)."""
    if secrets is None:
        return []
    role = secrets.args.get("role")
    out: list[Any] = []
    for s in secrets.args.get("sources") or []:
        if role and isinstance(s, str):
            s = {"id": s, "role": role}
        elif role and isinstance(s, dict) and not s.get("role"):
            s = {**s, "role": role}
        out.append(s if isinstance(s, dict) else str(s))
    return out


def _timeout_seconds(deco: Decorator | WithSpec | None) -> int | None:
    if deco is None:
        return None
    a = deco.args
    total = (_num(a.get("seconds"), 0) or 0) + 60 * (_num(a.get("minutes"), 0) or 0) + 3600 * (_num(a.get("hours"), 0) or 0)
    return int(total) if total > 0 else None


def _step_decorators(node: GraphNode, with_specs: Iterable[WithSpec]) -> dict[str, Decorator | WithSpec]:
    own: dict[str, Decorator | WithSpec] = {}
    for deco in node.step.decorators if node.step else ():
        own.setdefault(deco.name, deco)
    for spec in with_specs:
        if spec.name in COMPUTE_DECORATORS:
            if not any(n in own for n in COMPUTE_DECORATORS):
                own[spec.name] = spec
        else:
            own.setdefault(spec.name, spec)
    return own


def _packages(decos: dict[str, Any], base: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """@pypi/@conda packages of a step over the flow's @pypi_base/@conda_base (disabled=True: none)."""
    out: dict[str, str] = {}
    for flow_name, step_name in (("conda_base", "conda"), ("pypi_base", "pypi")):
        for deco in (base.get(flow_name), decos.get(step_name)):
            if deco is None:
                continue
            if deco.args.get("disabled"):
                out = {}
                continue
            for name, version in (deco.args.get("packages") or {}).items():
                out[str(name)] = "" if version is None else str(version)
    return tuple(sorted(out.items()))


def lower_step(node: GraphNode, graph: FlowGraph, with_specs: Iterable[WithSpec],
               settings: Settings | None = None) -> StepPlan:
    decos = _step_decorators(node, with_specs)
    retry = decos.get("retry")
    catch = decos.get("catch")
    environment = decos.get("environment")
    secrets = decos.get("secrets")
    timeout = _timeout_seconds(decos.get("timeout"))
    join_kind = None
    if node.kind == "join" and node.join_of in graph.nodes:
        join_kind = "foreach" if graph.nodes[node.join_of].kind in ("foreach", "parallel") else "static"
    return StepPlan(
        name=node.name,
        kind=node.kind,
        next=list(node.out),
        in_=list(node.in_),
        depth=node.foreach_depth,
        compute=resolve_compute(decos, settings),
        retry=Retry(
            times=int(_num_or_default(retry, "retry", "times")) if retry else 0,
            minutes_between=(_num_or_default(retry, "retry", "minutes_between_retries") if retry
                             else Retry.minutes_between),
        ),
        timeout_seconds=timeout,
        backstop_timeout_seconds=backstop_seconds(timeout),
        pod_deadline_seconds=pod_deadline_seconds(timeout),
        catch=catch is not None,
        catch_var=(catch.args.get("var") if catch else None),
        catch_print=bool(catch.args.get("print_exception", default("catch", "print_exception"))) if catch else True,
        env={str(k): str(v) for k, v in sorted(((environment.args.get("vars") or {}) if environment else {}).items())},
        secret_sources=_secret_sources(secrets),
        foreach_var=node.foreach_var,
        num_parallel=node.num_parallel,
        condition=node.condition,
        cases=dict(node.cases),
        recursive=node.recursive,
        join_of=node.join_of,
        join_kind=join_kind,
        matching_join=node.matching_join,
        split_parents=list(node.split_parents),
        span=node.step.span if node.step else None,
        decorators=tuple((name, tuple(sorted(d.args))) for name, d in sorted(decos.items())),
        packages=_packages(decos, {d.name: d for d in graph.flow.decorators}),
    )


_CRON_SHORTCUTS = (("hourly", "0 * * * *"), ("daily", "0 0 * * *"), ("weekly", "0 0 * * 0"))


def lower_schedule(deco: Decorator | None) -> Schedule | None:
    if deco is None:
        return None
    tz = deco.args.get("timezone")
    cron = deco.args.get("cron")
    if cron:
        return Schedule(" ".join(str(cron).split()), tz)
    for flag, expression in _CRON_SHORTCUTS:
        if deco.args.get(flag):
            return Schedule(expression, tz)
    default_flag = next(flag for flag, _ in _CRON_SHORTCUTS if default("schedule", flag))
    return Schedule(dict(_CRON_SHORTCUTS)[default_flag], tz)


def _default_branch(settings: Settings, deco: Decorator | None = None) -> str:
    """Settings first (flags, FLOWC_*, pyproject), then @project(production=..., branch=...), as
    Metaflow's --production / --branch override the decorator's."""
    args = deco.args if deco is not None else {}
    production = settings.production
    if settings.sources.get("production", "default") == "default" and "production" in args:
        production = args["production"]
    if str(production).lower() in ("1", "true", "yes"):
        return "prod"
    branch = settings.branch or args.get("branch")
    if branch:
        return str(branch) if str(branch).startswith(("test.", "prod.")) else "test." + str(branch)
    try:
        user = getpass.getuser()
    except Exception:  # no user name on some CI machines
        user = "unknown"
    return "user." + user


def default_text(value: Any) -> str:
    """A parameter value as the text a user would pass: booleans lower case, JSON sorted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def lower_parameter(p: ParameterDecl) -> ParameterPlan:
    text = default_text(p.default) if p.has_default and p.default is not None else None
    return ParameterPlan(**{f.name: getattr(p, f.name) for f in fields(ParameterDecl)}, default_text=text)


def lower(graph: FlowGraph, settings: Settings | None = None, with_specs: Iterable[WithSpec] = ()) -> FlowPlan:
    """The plan of a clean graph. No settings: the defaults (what the CLI has with no flag, env or pyproject)."""
    settings = settings if settings is not None else Settings()
    with_specs = list(with_specs)
    flow = graph.flow
    project_deco = flow.decorator("project")
    project = str(project_deco.args.get("name")) if project_deco and project_deco.args.get("name") else None
    branch = _default_branch(settings, project_deco) if project_deco else None
    triggers = [dict(d.args, kind=d.name) for d in flow.decorators if d.name in ("trigger", "trigger_on_finish")]
    hooks = tuple((event, str(getattr(fn, "name", fn))) for d in flow.decorators if d.name == "exit_hook"
                  for event, key in (("success", "on_success"), ("error", "on_error"))
                  for fn in (d.args.get(key) or ()))
    return FlowPlan(
        flow_name=flow.class_name,
        flow_file=os.path.basename(flow.path),
        path=flow.path,
        start=graph.start,
        end=graph.end,
        steps={name: lower_step(node, graph, with_specs, settings) for name, node in graph.nodes.items()},
        parameters=[lower_parameter(p) for p in flow.parameters if p.kind != "config"],
        configs=[lower_parameter(p) for p in flow.parameters if p.kind == "config"],
        env_reads=sorted(flow.env_reads),
        project=project,
        project_branch=branch,
        name_parts=(project, str(branch), flow.class_name) if project else (flow.class_name,),
        image=str(settings.image),
        schedule=lower_schedule(flow.decorator("schedule")),
        triggers=triggers,
        local_modules=list(flow.local_modules),
        settings=settings,
        description=flow.docstring,
        flow_decorators=tuple((d.name, tuple(sorted(d.args))) for d in flow.decorators),
        exit_hooks=hooks,
    )


def include_file_problems(plan: FlowPlan) -> list[Diagnostic]:
    """FC213: an IncludeFile default outside the flow's folder. Its content is read at compile time
    and published in the output (Argo arguments, the code package): a flow under review could name
    `/etc/passwd` or `../secrets.txt` and publish a file of the machine that compiles it."""
    if plan.settings is not None and getattr(plan.settings, "allow_outside_files", False):
        return []
    out = []
    for p in plan.parameters:
        if p.kind != "include_file" or not p.has_default or not p.default:
            continue
        path = str(p.default)
        parts = os.path.normpath(path).replace(os.sep, "/").split("/")
        if os.path.isabs(path) or path.startswith("~") or ".." in parts:
            out.append(Diagnostic("FC213", ERROR, f"IncludeFile {p.name!r}: its default {path!r} is outside the "
                                  "flow's folder; only files beside the flow are read at compile time "
                                  "(set allow_outside_files to allow it)", p.span, path=plan.path))
    return out


def with_diagnostics(options: Iterable[str]) -> tuple[list[WithSpec], list[Diagnostic]]:
    """Parse `--with` options; a bad one is a diagnostic (FC501) rather than an exception."""
    specs, diagnostics = [], []
    for option in options:
        try:
            specs.append(parse_with(option))
        except WithError as error:
            diagnostics.append(Diagnostic("FC501", ERROR, str(error), None))
    return specs, diagnostics


__all__ = ["WithSpec", "parse_with", "lower", "lower_step", "resolve_compute", "with_diagnostics", "default_text",
           "TIMEOUT_MARGIN_SECONDS", "COMPUTE_DECORATORS", "WITH_DECORATORS", "Span"]
