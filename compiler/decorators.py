"""What flowc knows about Metaflow's decorators: names, arguments and their value checks (from
Metaflow's plugins), where each goes (step or flow), which compute backend it pins, which `--with`
may attach, and the defaults lowering applies. A leaf module: lint and lower both read it.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


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


def finite(v) -> bool:
    """A number that is not inf or nan (a literal such as 1e400 evaluates to inf)."""
    n = number(v)
    return n is not None and math.isfinite(n)


def positive(v):
    n = number(v)
    if n is None:
        return "must be a number (memory and disk in MB)"
    if not math.isfinite(n):
        return "must be a finite number"
    return None if n > 0 else "must be greater than 0"


def non_negative(v):
    n = number(v)
    if n is None:
        return "must be a number"
    if not math.isfinite(n):
        return "must be a finite number"
    return None if n >= 0 else "must not be negative"


def non_negative_int(v):
    n = number(v)
    if n is None or not math.isfinite(n) or int(n) != n:
        return "must be a whole number"
    return None if n >= 0 else "must not be negative"


def ephemeral_gib(v):
    """@batch(ephemeral_storage=): GiB of Fargate task storage, 21 to 200 (AWS Batch's range)."""
    err = non_negative_int(v)
    if err:
        return err
    return None if 21 <= int(number(v)) <= 200 else "must be between 21 and 200 (GiB, Fargate's range)"


def qos_class(v):
    if v is None:
        return None
    return None if isinstance(v, str) and v.lower() in ("guaranteed", "burstable") else \
        "must be \"Guaranteed\" or \"Burstable\""


def hook_list(v):
    """@exit_hook(on_success=/on_error=): functions of the flow's module, or their names."""
    if not isinstance(v, (list, tuple)):
        return "must be a list of functions (or their names)"
    bad = [x for x in v if not isinstance(x, str) and type(x).__name__ != "FunctionRef"]
    return "must list functions defined in the flow file (or their names as strings)" if bad else None


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


COMPUTE = {"cpu": positive, "memory": positive, "disk": positive, "gpu": non_negative_int,
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
                       hostname_resolution_timeout=non_negative, qos=qos_class,
                       extended_resources=mapping, security_context=mapping),
    "batch": dict(COMPUTE, image=optional_string, queue=string, iam_role=optional_string,
                  execution_role=optional_string, max_swap=non_negative, swappiness=non_negative,
                  inferentia=non_negative_int, trainium=non_negative_int, efa=non_negative_int,
                  host_volumes=str_or_list, efs_volumes=str_or_list, use_tmpfs=boolean,
                  aws_batch_tags=mapping, tmpfs_tempdir=boolean, tmpfs_size=positive,
                  tmpfs_path=optional_string, ephemeral_storage=ephemeral_gib, log_driver=optional_string,
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
    "exit_hook": {"on_success": hook_list, "on_error": hook_list, "options": mapping},
    # Airflow's sensor: accepted so a flow written for Airflow compiles; FC219 says it is ignored
    "airflow_external_task_sensor": {k: anything for k in (
        "timeout", "poke_interval", "mode", "exponential_backoff", "pool", "soft_fail", "name",
        "description", "external_dag_id", "external_task_ids", "allowed_states", "failed_states",
        "execution_delta", "check_existence")},
}

# Decorators that make a step a @parallel step and start a framework in it (Metaflow's
# ParallelDecorator subclasses, in Metaflow itself or in an extension): the step runs as @parallel
# (its fate on each target), the framework is not started (FC222).
PARALLEL_FRAMEWORKS: dict[str, str] = {
    "pytorch_parallel": "Metaflow's PyTorch distributed set-up",
    "torchrun": "the metaflow-torchrun extension (current.torch.run)",
    "metaflow_ray": "the metaflow-ray extension (a Ray cluster over the tasks)",
    "deepspeed": "the metaflow-deepspeed extension (current.deepspeed.run)",
}

ALLOW_MULTIPLE = {"card", "secrets", "exit_hook"}

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
    "schedule": {"hourly": False, "daily": True, "weekly": False},   # @schedule alone runs daily
    "project": {"production": False},
}


def default(decorator: str, arg: str) -> object:
    """The default of `@decorator(arg=...)`; KeyError names a default this table does not hold."""
    return DEFAULTS[decorator][arg]


# --- fates: what each target does with each decorator and argument ---------------------------
# honoured: compiled into the target's documents (or done by flowc run);
# warned:   compiles, with a warning `code` saying what is not applied;
# refused:  an error `code`;
# inert:    has no meaning there, as in Metaflow (a schedule under `flowc run`).
HONOURED, WARNED, REFUSED, INERT = "honoured", "warned", "refused", "inert"
TARGETS = ("argo", "stepfunctions", "run")


@dataclass(frozen=True)
class Fate:
    argo: str = HONOURED
    stepfunctions: str = HONOURED
    run: str = HONOURED
    code: str | None = None      # the diagnostic of a warned or refused fate
    why: str = ""                # the message's reason
    codes: tuple[tuple[str, str], ...] = ()   # per-target codes, where they differ

    def on(self, target: str) -> str:
        return getattr(self, target)

    def code_on(self, target: str) -> str | None:
        """The code a target reports for this fate (None when honoured or inert there)."""
        if self.on(target) in (HONOURED, INERT):
            return None
        return dict(self.codes).get(target, self.code)

    @property
    def everywhere(self) -> str | None:
        """The fate when it is the same on every target (lint reports those), else None."""
        fates = {self.on(t) for t in TARGETS}
        return fates.pop() if len(fates) == 1 else None


OK = Fate()
IGNORED = Fate(WARNED, WARNED, WARNED, "FC219", "flowc does not apply it on any target")
PACKAGES = Fate(WARNED, WARNED, WARNED, "FC217",
                "flowc creates no environment: the image must carry these packages, or the "
                "task's environment sets FLOWC_INSTALL_PACKAGES=1 to pip-install them at task start")
# Arguments flowc never reads, so one that is only known when the flow runs is no error: the image's
# Python runs every task, whatever version a package decorator names (FC217 already says the image
# must match), e.g. the tutorials' @conda_base(python=get_python_version()).
UNREAD_ARGUMENTS: dict[str, frozenset[str]] = {
    name: frozenset({"python"}) for name in ("conda", "conda_base", "pypi", "pypi_base")}
CARD = Fate(WARNED, WARNED, WARNED, "FC218", "flowc renders no cards; current.card is a no-op")
TRIGGER = Fate(WARNED, WARNED, INERT, None, "not compiled (helper trig's work: Argo Events, EventBridge)",
               (("argo", "FC311"), ("stepfunctions", "FC409")))
SCHEDULE = Fate(HONOURED, HONOURED, INERT)


def _all(decorator: str, fate: Fate, **overrides: Fate) -> dict[str | None, Fate]:
    """The decorator itself (key None) and each argument: `fate` unless overridden."""
    table = STEP_DECORATORS[decorator] if decorator in STEP_DECORATORS else FLOW_DECORATORS[decorator]
    out: dict[str | None, Fate] = {None: fate}
    out.update({arg: overrides.get(arg, fate) for arg in table})
    return out


_K8S_IGNORED = ("tmpfs_tempdir", "port", "compute_pool", "executable", "hostname_resolution_timeout")
_BATCH_IGNORED = ("tmpfs_tempdir", "executable")

FATES: dict[str, dict[str | None, Fate]] = {
    "resources": _all("resources", OK),
    "kubernetes": _all("kubernetes", OK, **{k: IGNORED for k in _K8S_IGNORED},
                       namespace=Fate(WARNED, HONOURED, HONOURED, "FC304",
                                      "every pod of an Argo workflow runs in the workflow's namespace")),
    # (Step Functions runs @kubernetes steps on EKS with eks:runJob: the same pod fields)
    "batch": _all("batch", OK, **{k: IGNORED for k in _BATCH_IGNORED},
                  disk=Fate(WARNED, WARNED, WARNED, "FC219", "AWS Batch has no per-job disk size (Metaflow's "
                            "@batch has no disk=; use ephemeral_storage= on Fargate)")),
    "retry": _all("retry", OK),
    "catch": _all("catch", OK),
    "timeout": _all("timeout", OK),
    "environment": _all("environment", OK),
    "secrets": _all("secrets", OK, allow_override=IGNORED),
    "card": _all("card", CARD),
    "conda": _all("conda", PACKAGES),
    "pypi": _all("pypi", PACKAGES),
    # flowc run starts num_parallel local processes, as Metaflow's local runtime does
    "parallel": _all("parallel", Fate(WARNED, REFUSED, HONOURED, None,
                                      "no gang scheduling: Argo runs independent pods; Step Functions "
                                      "has no multi-node Batch jobs in flowc",
                                      (("argo", "FC312"), ("stepfunctions", "FC413")))),
    "unbounded_test_foreach_internal": _all("unbounded_test_foreach_internal",
                                            Fate(WARNED, WARNED, WARNED, "FC219", "it is Metaflow's internal test decorator")),
    "schedule": _all("schedule", SCHEDULE),
    "project": _all("project", OK),
    "trigger": _all("trigger", TRIGGER),
    "trigger_on_finish": _all("trigger_on_finish", TRIGGER),
    "conda_base": _all("conda_base", PACKAGES),
    "pypi_base": _all("pypi_base", PACKAGES),
    "exit_hook": _all("exit_hook", OK, options=IGNORED),
    "airflow_external_task_sensor": _all("airflow_external_task_sensor",
                                         Fate(WARNED, WARNED, WARNED, "FC219", "it is Airflow's sensor")),
}


def fate(decorator: str, arg: str | None = None) -> Fate | None:
    """The fate of `@decorator` (arg None) or of one of its arguments; None: not in the table.
    A @parallel framework decorator has @parallel's fate (its own arguments are not read)."""
    if decorator in PARALLEL_FRAMEWORKS:
        return FATES["parallel"][None] if arg is None else None
    return FATES.get(decorator, {}).get(arg)


def used_fates(used, target: str, states=(WARNED, REFUSED)):
    """(decorator, arg or None, Fate) for each decorator/argument in `used` whose fate on `target`
    is one of `states`; `used` is ((decorator, (arg, ...)), ...) as the IR keeps it."""
    out = []
    for name, args in used:
        for arg in (None, *args):
            f = fate(name, arg)
            if f is not None and f.on(target) in states:
                out.append((name, arg, f))
    return out


# Arguments whose value is a count: a whole number (Metaflow: int(...) of it, and a GPU of 1.5
# cannot be scheduled).
WHOLE_NUMBERS = {("resources", "gpu"), ("kubernetes", "gpu"), ("batch", "gpu"), ("batch", "inferentia"),
                 ("batch", "trainium"), ("batch", "efa"), ("retry", "times"), ("kubernetes", "port")}
# The longest @timeout engines hold: Batch's attemptDurationSeconds and Argo's
# activeDeadlineSeconds are 32-bit.
MAX_TIMEOUT_SECONDS = 2**31 - 1 - 3600


def number_problem(decorator: str, args: dict) -> list[tuple[str, str]]:
    """(argument, problem) for numbers that are not finite, not whole where a count is asked, or a
    @timeout too long for any engine (FC214)."""
    out = []
    for key, value in args.items():
        n = number(value)
        if n is None:
            continue
        if not math.isfinite(n):
            out.append((key, f"{value!r} is not a finite number"))
        elif (decorator, key) in WHOLE_NUMBERS and int(n) != n:
            out.append((key, f"{value!r} is not a whole number (a count)"))
    if decorator == "timeout" and not out:
        total = sum(float(number(args.get(k)) or 0) * m for k, m in
                    (("seconds", 1), ("minutes", 60), ("hours", 3600)))
        if total > MAX_TIMEOUT_SECONDS:
            key = next((k for k in ("hours", "minutes", "seconds") if args.get(k)), "seconds")
            out.append((key, f"makes a timeout of {total:.3g} s; engines hold at most "
                        f"{MAX_TIMEOUT_SECONDS} s (about 68 years)"))
    return out


# @project(name=, branch=): Metaflow's rule (project_decorator.py): [a-z0-9_], at most 128 characters
PROJECT_NAME_MAX = 128


def project_name_problem(value, what: str = "name") -> str | None:
    import re

    if value is None and what == "branch":
        return None
    if not isinstance(value, str) or not value:
        return f"@project {what} must be a non-empty string"
    if re.search(r"[^a-z0-9_]", value):
        return (f"@project {what} {value[:60]!r} may hold only lowercase letters, digits and '_' "
                "(Metaflow's rule)")
    if len(value) > PROJECT_NAME_MAX:
        return f"@project {what} is longer than {PROJECT_NAME_MAX} characters"
    return None
