"""Settings with provenance: command-line flags > FLOWC_* environment > [tool.flowc] in the nearest
pyproject.toml > defaults. `flowc compile --show-config` prints each value and where it came from.

SPECS is the one table of settings (one line each). `Settings` is a frozen dataclass generated from
it: one typed field per setting, plus `sources` (where each value came from).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence


def _int(value: Any) -> int:
    return int(value)


def _str(value: Any) -> str:
    return str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _named(value: Any) -> tuple[tuple[str, str], ...]:
    """NAME -> text pairs (--config / --config-value): pairs from the flags, a table in
    [tool.flowc], or a JSON object in the environment (as METAFLOW_FLOW_CONFIG)."""
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict):
        value = value.items()
    return tuple((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in value)


@dataclass(frozen=True)
class SettingSpec:
    name: str
    help: str
    default: Any = None
    convert: Callable[[Any], Any] = _str

    @property
    def env_var(self) -> str:
        return "FLOWC_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_bool(self) -> bool:
        return self.convert is _bool

    @property
    def type(self) -> Any:
        """The field type of the setting in `Settings` (Optional when it has no default)."""
        kind = _TYPES.get(self.convert, Any)
        return kind if self.default is not None else Optional[kind]


DEFAULT_IMAGE = "python:3.11"
_TYPES: dict[Callable[[Any], Any], Any] = {_int: int, _str: str, _list: Sequence[str], _bool: bool}


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("image", "container image of every step without its own", DEFAULT_IMAGE),
    SettingSpec("datastore", "datastore root every task reads and writes (s3://bucket/prefix)"),
    SettingSpec("s3_endpoint", "S3 endpoint URL for an S3-compatible store (passed to tasks as AWS_ENDPOINT_URL)"),
    SettingSpec("k8s_namespace", "Kubernetes namespace of the workflow templates"),
    SettingSpec("k8s_service_account", "Kubernetes service account of the pods"),
    SettingSpec("batch_queue", "AWS Batch job queue of steps without @batch(queue=...)"),
    SettingSpec("batch_job_role_arn", "IAM role the Batch jobs run as"),
    SettingSpec("batch_execution_role_arn", "ECS execution role of the Batch jobs (Fargate)"),
    SettingSpec("sfn_role_arn", "IAM role the state machine runs as"),
    SettingSpec("eks_cluster", "EKS cluster for @kubernetes steps on Step Functions"),
    SettingSpec("aws_region", "AWS region of Batch, Step Functions and S3"),
    SettingSpec("max_workers", "most tasks running at once (Argo parallelism, Map MaxConcurrency)", 100, _int),
    SettingSpec("workflow_timeout", "seconds a whole run may take (none: unlimited)", None, _int),
    SettingSpec("ttl_seconds", "seconds a finished Argo workflow is kept", 604800, _int),
    SettingSpec("pod_gc", "Argo pod garbage collection strategy", "OnPodSuccess"),
    SettingSpec("argo_version", "Argo Workflows version the output is for (3.5: CronWorkflow `schedule`, "
                "else `schedules`)", "4.1"),
    SettingSpec("concurrency_policy", "what a CronWorkflow does when the previous run is still going "
                "(Allow|Forbid|Replace)", "Allow"),
    SettingSpec("package_include", "globs of files beside the flow to put in the code package", (), _list),
    SettingSpec("allow_outside_files", "let IncludeFile defaults name files outside the flow's folder "
                "(they are read and published in the compiled output)", False, _bool),
    SettingSpec("branch", "@project branch (default: user.<name>)"),
    SettingSpec("production", "deploy to the @project production branch instead of user.<name> or --branch",
                False, _bool),
    SettingSpec("config", "Config files by name, read at compile time (--config NAME PATH)", (), _named),
    SettingSpec("config_value", "Config values by name, read at compile time (--config-value NAME TEXT)",
                (), _named),
    SettingSpec("resolve_env", "read os.getenv / os.environ in decorator arguments from the compiling "
                "environment (the output records the variables read)", False, _bool),
    SettingSpec("argo_events_bus", "Argo Events EventBus the Sensors of @trigger flows read", "default"),
    SettingSpec("argo_events_source", "Argo Events EventSource (webhook) that carries flowc events", "flowc-events"),
    SettingSpec("argo_events_event", "event name within that EventSource", "flowc"),
    SettingSpec("argo_events_service_account", "service account the Sensors run as (creates Workflows)"),
    SettingSpec("argo_events_webhook_url", "URL of the webhook EventSource: `flowc trigger --event` and "
                "finished runs (@trigger_on_finish) post events there"),
    SettingSpec("eventbridge_bus", "EventBridge event bus of @trigger rules", "default"),
    SettingSpec("eventbridge_source", "EventBridge `source` of the events @trigger rules match", "flowc"),
    SettingSpec("eventbridge_role_arn", "IAM role EventBridge assumes to start the state machine "
                "(default: sfn_role_arn)"),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


class _SettingsMethods:
    """What every Settings has besides its fields."""

    sources: Mapping[str, str]   # name -> "flag --x" | "env FLOWC_X" | "<pyproject> [tool.flowc]" | "default"

    @property
    def values(self) -> dict[str, Any]:
        return {spec.name: getattr(self, spec.name) for spec in SPECS}

    def describe(self) -> list[tuple[str, Any, str]]:
        return [(spec.name, getattr(self, spec.name), self.sources.get(spec.name, "default")) for spec in SPECS]

    def with_values(self, **overrides: Any) -> "Settings":
        sources = dict(self.sources)
        sources.update({key: "flag" for key in overrides})
        return dataclasses.replace(self, sources=sources, **overrides)  # type: ignore[type-var,return-value]


def _field(spec: SettingSpec) -> Any:
    if isinstance(spec.default, list):   # mutable: a factory gives each Settings its own
        default: list[Any] = spec.default
        return field(default_factory=lambda: list(default))
    return field(default=spec.default)


if TYPE_CHECKING:   # the fields are generated from SPECS; to a type checker, any setting is Any
    class Settings(_SettingsMethods):
        def __init__(self, sources: Mapping[str, str] = ..., **values: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...
else:
    Settings = dataclasses.make_dataclass(
        "Settings",
        [(spec.name, spec.type, _field(spec)) for spec in SPECS]
        + [("sources", Mapping[str, str], field(default_factory=dict, compare=False))],
        bases=(_SettingsMethods,), frozen=True)
    Settings.__module__ = __name__


class SettingsError(ValueError):
    """A setting has a value that does not convert; the message names the setting and its source."""


def find_pyproject(start: Path) -> Path | None:
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _read_pyproject_table(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        raw = path.read_bytes()
    except OSError:
        return {}
    # Most projects' pyproject.toml has no [tool.flowc]: no need to import tomllib (~10 ms) to
    # find that out. A TOML key names flowc literally or through a \u/\U escape.
    if b"flowc" not in raw and b"\\u" not in raw and b"\\U" not in raw:
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            return {}
    try:
        # as read_text() reads it: universal newlines
        data = tomllib.loads(raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    except (OSError, ValueError):
        return {}
    table = data.get("tool", {}).get("flowc", {})
    return {str(k).replace("-", "_"): v for k, v in table.items()} if isinstance(table, dict) else {}


def resolve(flags: Mapping[str, Any] | None = None, *, flow_dir: str | os.PathLike | None = None,
            environ: Mapping[str, str] | None = None) -> Settings:
    flags = {k: v for k, v in (flags or {}).items() if v is not None and v != ()}
    environ = os.environ if environ is None else environ
    pyproject = find_pyproject(Path(flow_dir or ".").resolve())
    table = _read_pyproject_table(pyproject)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SPECS:
        if spec.name in flags:
            raw, source = flags[spec.name], "flag " + spec.flag
        elif spec.env_var in environ and environ[spec.env_var] != "":
            raw, source = environ[spec.env_var], "env " + spec.env_var
        elif spec.name in table:
            raw, source = table[spec.name], f"{pyproject} [tool.flowc]"
        else:
            values[spec.name], sources[spec.name] = spec.default, "default"
            continue
        try:
            values[spec.name] = spec.convert(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"setting {spec.name} from {source}: cannot read {raw!r}") from None
        sources[spec.name] = source
    return Settings(sources=sources, **values)
