"""What deploy, trigger and status ask of a target's deployer module beyond building a plan:
the settings it needs (reported together, before anything is compiled or contacted) and the
workflow's name from the plan alone (trigger and status need no datastore or role)."""
from __future__ import annotations

from types import ModuleType
from typing import Any

from compiler.settings import SPEC_BY_NAME


def _how(name: str) -> str:
    spec = SPEC_BY_NAME[name]
    return f"{spec.flag} or {spec.env_var}"


def missing_settings_message(target: str, backend: ModuleType, settings: Any, *, connect: bool = True) -> str | None:
    """One line naming every setting the deploy lacks and how to set each, or None.
    The deployer lists them with `required_settings(settings, connect) -> [(name, what)]`."""
    required = getattr(backend, "required_settings", None)
    missing = required(settings, connect) if required is not None else []
    if not missing:
        return None
    parts = [f"{name} ({what}: {_how(name)})" if name in SPEC_BY_NAME else f"{name} ({what})"
             for name, what in missing]
    return f"deploying to {target} needs settings that are not set: " + "; ".join(parts)


def workflow_name_of(target: str, plan: Any) -> str:
    """The deployed workflow's name (WorkflowTemplate, state machine) for a lowered plan."""
    from compiler.targets import spec

    return str(spec(target).deployer_module().workflow_name_of_plan(plan))
