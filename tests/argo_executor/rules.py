"""Argo rules the executor applies, each citing Argo's source (github.com/argoproj/argo-workflows,
checked at v3.5.15 and v4.1.2) or docs: templateDefaults merge, enhanced depends, exec limits,
submit-time tag validation, Go durations."""
from __future__ import annotations

import copy
import json
import re
from typing import Any

from .expr import ExprError, evaluate_bool

SUCCEEDED, FAILED, ERRORED, SKIPPED, OMITTED = "Succeeded", "Failed", "Error", "Skipped", "Omitted"
PENDING, RUNNING = "Pending", "Running"

# workflow/controller/controller.go: `const maxAllowedStackDepth = 100`; operator.go
# executeTemplate: `woc.currentStackDepth++` then `if woc.currentStackDepth >= maxStackDepth` the
# node errors with ErrMaxDepthExceeded. Every nested executeTemplate (a DAG calling a template)
# counts one; the entrypoint's call is depth 1.
MAX_STACK_DEPTH = 100
MAX_DEPTH_MESSAGE = "Maximum recursion depth exceeded"

# Linux execve(2): one argv or environment string (with its NUL) is at most MAX_ARG_STRLEN = 32
# pages = 131072 bytes, else E2BIG ("Argument list too long"); argv + envp together at most
# ARG_MAX (a quarter of the 8 MiB default stack = 2 MiB). Argo's workflow/common/common.go
# MaxEnvVarLen = 131072 (v4.1.2) is the same number.
MAX_ARG_STRLEN = 131072
ARG_MAX = 2 * 1024 * 1024


class WorkflowError(Exception):
    """An error Argo reports as a node Error (unresolvable reference, bad spec...)."""


# ---------------------------------------------------------------------------------------------
# strategic merge (docs/template-defaults.md: "merged using Kubernetes strategic merge patch";
# patchMergeKey tags in pkg/apis/workflow/v1alpha1 and k8s.io/api/core/v1: env by name,
# volumeMounts by mountPath, volumes by name; other lists are replaced).
_MERGE_KEYS = {"env": "name", "volumeMounts": "mountPath", "volumes": "name", "envFrom": None}


def strategic_merge(default: Any, override: Any, key: str | None = None) -> Any:
    if isinstance(default, dict) and isinstance(override, dict):
        out = copy.deepcopy(default)
        for k, v in override.items():
            out[k] = strategic_merge(default.get(k), v, k) if k in default else copy.deepcopy(v)
        return out
    if isinstance(default, list) and isinstance(override, list) and _MERGE_KEYS.get(key):
        mk = _MERGE_KEYS[key]
        merged = {item[mk]: copy.deepcopy(item) for item in default}
        for item in override:
            merged[item[mk]] = strategic_merge(merged.get(item[mk], {}), item)
        return list(merged.values())
    return copy.deepcopy(override)


def merge_template_defaults(defaults: dict | None, template: dict) -> dict:
    """operator.go mergedTemplateDefaultsInto: defaults of another template type (container, dag,
    script, ...) are dropped before the merge; the template's own values win."""
    if not defaults:
        return template
    kinds = ("container", "script", "dag", "steps", "resource", "suspend", "containerSet", "data", "http", "plugin")
    own = next((k for k in kinds if k in template), None)
    applicable = {k: v for k, v in defaults.items() if k not in kinds or k == own}
    return strategic_merge(applicable, template)


# ---------------------------------------------------------------------------------------------
# enhanced depends (workflow/common/ancestry.go GetTaskDependencies, workflow/controller/dag.go
# evaluateDependsLogic): task names are found with taskNameRegex; a bare name X stands for
# `(X.Succeeded || X.Skipped || X.Daemoned)`; every `-` in the expression becomes `_` and the result
# is evaluated with expr-lang (util/expr/argoexpr EvalBool) over {task_name: TaskResults}.
_TASK_NAME = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)")


def depends_tasks(expression: str) -> list[str]:
    names = []
    for m in _TASK_NAME.finditer(expression):
        names.append((m.group(1) or m.group(2)).split(".")[0])
    return list(dict.fromkeys(names))


def _expanded(expression: str) -> str:
    def sub(m):
        if m.group(1):
            return m.group(1)
        x = m.group(2)
        return f"({x}.Succeeded || {x}.Skipped || {x}.Daemoned)"
    return _TASK_NAME.sub(sub, expression)


def evaluate_depends(expression: str, nodes: dict) -> bool:
    scope = {}
    for task in depends_tasks(expression):
        node = nodes[task]
        kids = [c.phase for c in node.children] if node.fanned_out else []
        scope[task.replace("-", "_")] = {
            "Succeeded": node.phase == SUCCEEDED, "Failed": node.phase == FAILED,
            "Errored": node.phase == ERRORED, "Skipped": node.phase == SKIPPED,
            "Omitted": node.phase == OMITTED, "Daemoned": False,
            "AnySucceeded": any(p == SUCCEEDED for p in kids),
            "AllFailed": bool(kids) and all(p == FAILED for p in kids)}
    logic = _expanded(expression).replace("-", "_")
    try:
        return evaluate_bool(logic, scope)
    except ExprError as e:
        raise WorkflowError(f"unable to evaluate expression '{logic}': {e}") from None


# ---------------------------------------------------------------------------------------------
def exec_problem(argv: list[str], env: dict[str, str]) -> str | None:
    """Why execve would refuse this argv/env (E2BIG), or None."""
    strings = [a.encode("utf-8", "surrogateescape") for a in argv]
    strings += [f"{k}={v}".encode("utf-8", "surrogateescape") for k, v in env.items()]
    for s in strings:
        if len(s) + 1 > MAX_ARG_STRLEN:
            return (f"exec: argument list too long (E2BIG): one string is {len(s) + 1} bytes, "
                    f"more than MAX_ARG_STRLEN {MAX_ARG_STRLEN}: {s[:60]!r}...")
    total = sum(len(s) + 1 for s in strings)
    if total > ARG_MAX:
        return f"exec: argument list too long (E2BIG): argv and environment are {total} bytes"
    return None


# ---------------------------------------------------------------------------------------------
# submit-time validation (workflow/validate/validate.go resolveAllVariables): every simple tag in a
# template must name a variable that exists in its scope, else the workflow is refused.
_TAG = re.compile(r"\{\{([^=][^}]*?)\}\}")


def unknown_tags(template: dict, global_names: set[str]) -> list[str]:
    known = set(global_names) | {"pod.name", "inputs.parameters", "workflow.parameters"}
    for p in (template.get("inputs") or {}).get("parameters", []):
        known.add("inputs.parameters." + p["name"])
    if "retryStrategy" in template:
        known.add("retries")
    for p in (template.get("outputs") or {}).get("parameters", []):
        known.add("outputs.parameters.%s.path" % p["name"])
    text = json.dumps({k: v for k, v in template.items() if k != "dag"})
    return [t.strip() for t in _TAG.findall(text) if t.strip() not in known
            and not t.strip().startswith(("tasks.", "item"))]


def _duration(text: str) -> float:
    """Go durations as Argo takes them (docs/retries.md: "duration": "1m", "2s"); bare numbers are seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total
