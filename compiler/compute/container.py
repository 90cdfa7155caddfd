"""What every flowc container runs (docs/runtime-contract.md), built once for every engine.

- the task argv (`task --run-id ... --step ...`): `task_argv`, used by the Argo templates, the Step
  Functions Batch and EKS states, the local and remote runner and the Argo `@batch` submitter;
- the command prefix: containers that fetch the code package run `python -c <FLOWC_BOOTSTRAP>`;
- the bootstrap itself (templates/bootstrap.py.j2, shipped in the wheel as the package
  `flowc_templates` and read with importlib.resources);
- the code package's place in the datastore: `<datastore>/<Flow>/code/<sha256>.zip`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

# Run the bootstrap held in the environment; the task argv follows it.
COMMAND_PREFIX: tuple[str, ...] = ("python", "-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])')
# Run the runtime from a code package already on PYTHONPATH (Argo's ConfigMap mount, local runs).
RUNTIME_COMMAND: tuple[str, ...] = ("python", "-m", "runtime_shim")
DEFAULT_IMAGE = "python:3.11"
# The runtime enforces @timeout itself (so @catch can catch a timeout); the engine's own deadline
# is a backstop that fires only if the runtime overran by this much.
TIMEOUT_MARGIN_SECONDS = 60


class Expr(str):
    """An argv entry the engine evaluates (a Step Functions path or intrinsic), not a literal."""


def task_argv(step: str, *, run_id: str, datastore: str | None = None, output_dir: str | None = None,
              index_path: str | None = None, attempt: str | None = None, iteration: str | None = None,
              params: Iterable[tuple[str, str]] = (), params_json: str | None = None,
              params_file: str | None = None) -> list[str]:
    """The runtime's `task` argv; a None value leaves its option out. Values are opaque: engine
    expressions (Argo tags, `Expr`) pass through. One argv entry per value, never a shell."""
    argv = ["task"]
    for option, value in (("--datastore", datastore), ("--run-id", run_id), ("--step", step),
                          ("--output-dir", output_dir), ("--index-path", index_path),
                          ("--attempt", attempt), ("--iteration", iteration)):
        if value is not None:
            argv += [option, value]
    for name, value in params:
        argv += ["--param", f"{name}={value}"]
    if params_json is not None:
        argv += ["--params-json", params_json]
    if params_file is not None:
        argv += ["--params-file", params_file]
    return argv


def backstop_seconds(timeout_seconds: int | None) -> int | None:
    """The engine's deadline for a step with @timeout: the timeout plus the margin (at least 60 s,
    Batch's minimum attemptDurationSeconds); None without @timeout."""
    if not timeout_seconds:
        return None
    return max(60, int(timeout_seconds) + TIMEOUT_MARGIN_SECONDS)


def _template_text() -> str:
    from importlib.resources import files

    return files("flowc_templates").joinpath("bootstrap.py.j2").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def bootstrap_source() -> str:
    """The container bootstrap, rendered, with comments and blank lines dropped to keep it small."""
    text = _template_text()
    if any(mark in text for mark in ("{{", "{%", "{#")):
        # only then: importing jinja2 is ~70 ms of a ~0.35 s compile, and plain text renders as itself
        import jinja2

        text = jinja2.Template(text, keep_trailing_newline=True).render()
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return "\n".join(lines) + "\n"


def code_key(flow_name: str, sha256: str) -> str:
    """The code package's key under the datastore root."""
    return f"{flow_name}/code/{sha256}.zip"


def code_url(datastore: str, flow_name: str, sha256: str) -> str:
    return f"{str(datastore).rstrip('/')}/{code_key(flow_name, sha256)}"


def setting(settings: Any, name: str) -> Any:
    return getattr(settings, name, None) if settings is not None else None


def image_of(compute: Any, settings: Any) -> str:
    return str(compute.image or setting(settings, "image") or DEFAULT_IMAGE)


def base_environment(*, code_url: str | None, code_sha256: str, settings: Any) -> list[dict[str, str]]:
    """The environment of a container that runs the bootstrap: the bootstrap, the package it fetches,
    the datastore and the AWS endpoint/region from the settings."""
    env = [("FLOWC_BOOTSTRAP", bootstrap_source())]
    if code_url:
        env.append(("FLOWC_CODE_URL", code_url))
    env.append(("FLOWC_CODE_SHA256", code_sha256))
    for name, setting_name in (("FLOWC_DATASTORE", "datastore"), ("AWS_ENDPOINT_URL", "s3_endpoint"),
                               ("AWS_DEFAULT_REGION", "aws_region")):
        value = setting(settings, setting_name)
        if value:
            env.append((name, str(value)))
    env.append(("PYTHONUNBUFFERED", "1"))
    return [{"name": k, "value": v} for k, v in env]
