"""Targets plug in through one small interface (base.Target). Loaded lazily by name."""
from __future__ import annotations

import importlib

from compiler.targets.base import Target

TARGETS: dict[str, str] = {
    "argo": "compiler.targets.argo:ArgoTarget",
    "stepfunctions": "compiler.targets.stepfunctions:StepFunctionsTarget",
}


def get_target(name: str, **options) -> Target:
    """The target plug-in `name`; options are the target's own (e.g. Argo's package_in_datastore)."""
    module_name, attr = TARGETS[name].split(":")
    return getattr(importlib.import_module(module_name), attr)(**options)
