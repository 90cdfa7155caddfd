"""What flowc knows about Metaflow's decorators: names, arguments and their value checks (from
Metaflow's plugins), where each goes (step or flow), which compute backend it pins, which `--with`
may attach, and the defaults lowering applies. A leaf module: lint and lower both read it.
"""
from __future__ import annotations

import numbers


def number(v):
    """The value as a number, or None (bools are not numbers here)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, numbers.Number):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def positive(v):
    n = number(v)
    if n is None:
        return "must be a number (memory and disk in MB)"
    return None if n > 0 else "must be greater than 0"


def non_negative(v):
    n = number(v)
    if n is None:
        return "must be a number"
    return None if n >= 0 else "must not be negative"


def non_negative_int(v):
    n = number(v)
    if n is None or int(n) != n:
        return "must be an integer"
    return None if n >= 0 else "must not be negative"


def string(v):
    return None if isinstance(v, str) else "must be a string"


def optional_string(v):
    return None if v is None or isinstance(v, str) else "must be a string"


def boolean(v):
    return None if isinstance(v, bool) or v in ("true", "false", "True", "False") else "must be True or False"


def mapping(v):
    return None if isinstance(v, dict) or v is None else "must be a dict"


def sequence(v):
    return None if isinstance(v, (list, tuple)) or v is None else "must be a list"


def str_or_list(v):
    return None if isinstance(v, (str, list, tuple)) or v is None else "must be a string or a list"


def str_or_dict(v):
    return None if isinstance(v, (str, dict)) or v is None else "must be a string or a dict"


def anything(v):
    return None


def identifier(v):
    if v is None:
        return None
    return None if isinstance(v, str) and v.isidentifier() else "must be an artifact name (a string)"


def retry_times(v):
    err = non_negative_int(v)
    if err:
        return err
    return None if int(number(v)) <= 4 else "must be at most 4 (Metaflow's limit)"


COMPUTE = {"cpu": positive, "memory": positive, "disk": positive, "gpu": non_negative,
           "shared_memory": positive}

STEP_DECORATORS: dict[str, dict] = {
    "resources": dict(COMPUTE),
    "kubernetes": dict(COMPUTE, image=optional_string, image_pull_policy=optional_string,
                       image_pull_secrets=sequence, service_account=optional_string,
                       secrets=str_or_list, node_selector=str_or_dict, namespace=optional_string,
                       gpu_vendor=string, tolerations=sequence, labels=mapping, annotations=mapping,
                       use_tmpfs=boolean, tmpfs_tempdir=boolean, tmpfs_size=positive,
                       tmpfs_path=optional_string, persistent_volume_claims=mapping, port=non_negative_int,
                       compute_pool=optional_string, executable=optional_string,
                       hostname_resolution_timeout=non_negative, qos=string,
                       extended_resources=mapping, security_context=mapping),
    "batch": dict(COMPUTE, image=optional_string, queue=string, iam_role=optional_string,
                  execution_role=optional_string, max_swap=non_negative, swappiness=non_negative,
                  inferentia=non_negative_int, trainium=non_negative_int, efa=non_negative_int,
                  host_volumes=str_or_list, efs_volumes=str_or_list, use_tmpfs=boolean,
                  aws_batch_tags=mapping, tmpfs_tempdir=boolean, tmpfs_size=positive,
                  tmpfs_path=optional_string, ephemeral_storage=positive, log_driver=optional_string,
                  log_options=str_or_list, executable=optional_string, privileged=boolean),
    "retry": {"times": retry_times, "minutes_between_retries": non_negative},
    "catch": {"var": identifier, "print_exception": boolean},
    "timeout": {"seconds": non_negative, "minutes": non_negative, "hours": non_negative},
    "environment": {"vars": mapping},
    "secrets": {"sources": sequence, "role": optional_string, "allow_override": boolean},
    "card": {"type": string, "options": mapping, "scope": string, "rank": anything,
             "timeout": non_negative, "id": optional_string, "save_errors": boolean,
             "customize": boolean, "refresh_interval": non_negative},
    "conda": {"packages": mapping, "libraries": mapping, "python": optional_string, "disabled": boolean},
    "pypi": {"packages": mapping, "python": optional_string, "disabled": boolean},
    "parallel": {},
    "unbounded_test_foreach_internal": {},
}

FLOW_DECORATORS: dict[str, dict] = {
    "schedule": {"cron": optional_string, "weekly": boolean, "daily": boolean, "hourly": boolean,
                 "timezone": optional_string},
    "project": {"name": string, "branch": optional_string, "production": boolean},
    "trigger": {"event": str_or_dict, "events": sequence, "options": mapping},
    "trigger_on_finish": {"flow": str_or_dict, "flows": sequence, "options": mapping},
    "conda_base": {"packages": mapping, "libraries": mapping, "python": optional_string,
                   "disabled": boolean},
    "pypi_base": {"packages": mapping, "python": optional_string, "disabled": boolean},
}

ALLOW_MULTIPLE = {"card", "secrets"}

# A compute decorator pins its step to one backend; @resources is a hint every backend reads.
COMPUTE_DECORATORS = ("kubernetes", "batch")
# What `flowc compile --with NAME[:k=v,...]` may attach to every step.
WITH_DECORATORS = ("kubernetes", "batch", "retry", "catch", "timeout", "environment", "resources")

# The value an argument has when the decorator is present but the argument is not (Metaflow's).
DEFAULTS: dict[str, dict[str, object]] = {
    "retry": {"times": 3, "minutes_between_retries": 2},
    "catch": {"var": None, "print_exception": True},
    "kubernetes": {"gpu_vendor": "nvidia", "tmpfs_path": "/metaflow_temp"},
    "batch": {"tmpfs_path": "/metaflow_temp"},
    "schedule": {"daily": True},              # @schedule with no argument runs daily
}


def default(decorator: str, arg: str) -> object:
    """The default of `@decorator(arg=...)`; KeyError names a default this table does not hold."""
    return DEFAULTS[decorator][arg]
