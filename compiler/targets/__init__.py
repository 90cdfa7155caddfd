"""The target registry: everything target-specific outside a target's own folder comes from here.

A target is one folder (compiler/targets/<name>/), one deployer module (compiler/deploy/<name>.py)
and one `TargetSpec` line in REGISTRY. The CLI's --target choices, `flowc explain`'s code list,
`flowc compile`'s stdout, `flowc deploy/trigger/status` and preflight read the spec; nothing in
compiler/commands/ names a target. Modules are imported lazily, by name, when first used.
See compiler/targets/README.md for the list of files a new target touches.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from compiler.targets.base import Target


@dataclass(frozen=True)
class TargetSpec:
    name: str
    target: str                     # "module:Class" of the base.Target implementation
    codes: str                      # module that registers the target's diagnostic codes
    deployer: str                   # module with target_options, build_plan, workflow_name, trigger, status
    aliases: tuple[str, ...] = ()   # other names users type (Metaflow's command names)
    settings: tuple[str, ...] = ()  # settings only this target reads (`--show-config` shows them for it)
    default_backend: str = ""       # where steps without @batch/@kubernetes run (preflight)
    stdout_separator: bytes = b""   # between the documents `flowc compile` prints without -o

    def create(self, **options: Any) -> Target:
        module_name, attr = self.target.split(":")
        return getattr(importlib.import_module(module_name), attr)(**options)

    def codes_module(self) -> ModuleType:
        return importlib.import_module(self.codes)

    def deployer_module(self) -> ModuleType:
        return importlib.import_module(self.deployer)


REGISTRY: tuple[TargetSpec, ...] = (
    TargetSpec("argo", "compiler.targets.argo:ArgoTarget", "compiler.targets.argo.codes", "compiler.deploy.argo",
               aliases=("argo-workflows",), settings=("k8s_service_account", "ttl_seconds", "pod_gc", "concurrency_policy",
                         "argo_events_bus", "argo_events_source", "argo_events_event",
                         "argo_events_service_account", "argo_events_webhook_url"),
               default_backend="kubernetes", stdout_separator=b"---\n"),
    TargetSpec("stepfunctions", "compiler.targets.stepfunctions:StepFunctionsTarget",
               "compiler.targets.stepfunctions.codes", "compiler.deploy.stepfunctions",
               aliases=("step-functions",), settings=("sfn_role_arn", "eks_cluster", "eventbridge_bus", "eventbridge_source",
                         "eventbridge_role_arn"), default_backend="batch"),
)
_BY_NAME = {name: spec for spec in REGISTRY for name in (spec.name, *spec.aliases)}


def load_all_codes() -> None:
    """Register every target's diagnostic codes (explain, renderers): one import per entry."""
    for entry in REGISTRY:
        entry.codes_module()


def names(with_aliases: bool = True) -> list[str]:
    """Every name --target accepts (canonical names first)."""
    return [spec.name for spec in REGISTRY] + ([a for spec in REGISTRY for a in spec.aliases] if with_aliases else [])


def spec(name: str) -> TargetSpec:
    """The spec of a target by its name or an alias; KeyError names the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown target {name!r} (known: {', '.join(names())})") from None


def get_target(name: str, **options: Any) -> Target:
    """The target plug-in `name`; options are the target's own (e.g. Argo's package_in_datastore)."""
    return spec(name).create(**options)


def other_targets_settings(name: str) -> set[str]:
    """Settings that only other targets read."""
    own = spec(name)
    return {s for other in REGISTRY if other is not own for s in other.settings} - set(own.settings)
