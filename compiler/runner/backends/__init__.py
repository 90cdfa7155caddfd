"""Where `flowc run` runs a task: a local process (compiler.runner.local) or a remote backend.

A remote backend (batch.py: an AWS Batch job; kubernetes.py: a Kubernetes Job) runs the SAME
task command as the compiled targets' containers (docs/runtime-contract.md): the bootstrap fetches
the code package from the datastore and runs `runtime_shim task ...args`. The local orchestrator
(compiler.runner.local.LocalRunner) schedules it like a local task, waits for it, shows its state
and logs, and retries it per @retry. The outputs a scheduler needs (num_splits, branch) are read
back from the task's manifest in the datastore, which both sides reach.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from compiler.ir import StepPlan


class BackendError(Exception):
    """A remote backend cannot be used (a missing setting, an unreachable API): exit 2 before the run."""


@dataclass
class RemoteTask:
    """One attempt of one task to run remotely."""

    flow_name: str
    run_id: str
    step: StepPlan
    task_id: str
    attempt: int
    args: list[str]                      # the runtime's argv: ["task", "--datastore", ...]
    env: dict[str, str] = field(default_factory=dict)   # the step's @environment vars

    @property
    def pathspec(self) -> str:
        return "%s/%s/%s" % (self.run_id, self.step.name, self.task_id)


LineSink = Callable[[str], None]


class Backend:
    """The interface: run one attempt to the end; return (exit code, outputs) (outputs may be empty:
    the runner reads num_splits / branch from the datastore)."""

    name = "remote"

    def prepare(self, steps: list[StepPlan]) -> None:   # pragma: no cover - interface
        """Before any task starts: register definitions, check settings. Raises BackendError."""

    def run_task(self, task: RemoteTask, line: LineSink) -> int:   # pragma: no cover - interface
        raise NotImplementedError


def require(settings: Any, name: str, why: str) -> str:
    value = getattr(settings, name, None) if settings is not None else None
    if not value:
        raise BackendError("setting %s is not set (%s): pass --%s or set FLOWC_%s"
                           % (name, why, name.replace("_", "-"), name.upper()))
    return str(value)


def job_name(*parts: str, limit: int = 63) -> str:
    """A name both AWS Batch (128, [A-Za-z0-9_-]) and Kubernetes (63, DNS label) accept."""
    text = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    if len(text) > limit:
        import hashlib

        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        text = text[: limit - 9].rstrip("-") + "-" + digest
    return text or "flowc-task"


def outputs_from_datastore(ds, run_id: str, step: str, task_id: str) -> dict[str, str]:
    """num_splits / branch of a completed task, from its manifest (what --output-dir gives locally)."""
    manifest = ds.read_manifest(run_id, step, task_id) or {}
    out = {"task_id": task_id}
    if manifest.get("num_splits") is not None:
        out["num_splits"] = str(manifest["num_splits"])
    if manifest.get("branch") is not None:
        out["branch"] = str(manifest["branch"])
    return out
