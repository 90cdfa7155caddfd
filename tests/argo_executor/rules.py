"""Argo rules the executor applies, each citing the Argo doc it follows: templateDefaults merge,
tag substitution, enhanced depends, Go durations."""
from __future__ import annotations

import copy
import json
import re
from typing import Any

from .expr import ExprError, evaluate

SUCCEEDED, FAILED, ERRORED, SKIPPED, OMITTED = "Succeeded", "Failed", "Error", "Skipped", "Omitted"


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
# substitution (docs/variables.md: simple tags `{{name}}` are replaced by the variable's value, an
# unresolvable one is an error; expression tags `{{=expr}}` are evaluated as expr-lang).
# Argo (util/template, on valyala/fasttemplate) makes ONE left-to-right pass: a tag runs from `{{`
# to the first `}}` after it, is replaced, and scanning resumes after the tag; substituted values
# are never scanned again (a value holding `{{workflow.name}}` stays literal). A `{{` without a
# closing `}}` is kept as text.
def substitute(text: str, scope: dict[str, str], env: dict[str, Any]) -> str:
    out, pos = [], 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = text.find("}}", start + 2)
        if end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        tag = text[start + 2:end]
        if tag.startswith("="):
            try:
                value = evaluate(tag[1:], env)
            except ExprError as e:
                raise WorkflowError(f"expression {{{{{tag}}}}}: {e}") from None
            if value is None:
                raise WorkflowError(f"expression {{{{{tag}}}}} is nil")
            out.append(value if isinstance(value, str) else json.dumps(value))
        elif tag.strip() in scope:
            out.append(_quotable(scope[tag.strip()], tag))
        elif tag.rfind("{{") > 0 and tag[tag.rfind("{{") + 2:] in scope:
            # simple_replace.go: "Attempt to resolve nested tags": `{{a{{b}}` -> "{{a" + value of b
            i = tag.rfind("{{")
            out.append("{{" + tag[:i] + _quotable(scope[tag[i + 2:]], tag))
        else:
            raise WorkflowError(f"failed to resolve {{{{{tag}}}}}")
        pos = end + 2


def _quotable(value: str, tag: str) -> str:
    """simple_replace.go writes strconv.Quote(value) into the template's JSON, which is decoded
    again: Go's escapes for C0 controls (but \\b \\f \\n \\r \\t), DEL, invalid UTF-8 and
    non-printable runes above U+FFFF are not JSON, so Argo fails the substitution."""
    for ch in value:
        if ch.isprintable() or ch in "\b\f\n\r\t":
            continue
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0xD800 <= o <= 0xDFFF or o > 0xFFFF:
            raise WorkflowError(f"{{{{{tag}}}}}: invalid character in string escape code (U+{o:04X})")
    return value


def substitute_all(value: Any, scope, env) -> Any:
    if isinstance(value, str):
        return substitute(value, scope, env)
    if isinstance(value, list):
        return [substitute_all(v, scope, env) for v in value]
    if isinstance(value, dict):
        return {k: substitute_all(v, scope, env) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# enhanced depends (docs/enhanced-depends-logic.md)
_OPERAND = re.compile(r"[A-Za-z0-9][-A-Za-z0-9]*(?:\.[A-Za-z]+)?")


def depends_tasks(expression: str) -> list[str]:
    names = []
    for tok in re.findall(r"[A-Za-z0-9][-A-Za-z0-9]*(?:\.[A-Za-z]+)?", expression):
        names.append(tok.split(".")[0])
    return list(dict.fromkeys(names))


def evaluate_depends(expression: str, nodes: dict) -> bool:
    def result(tok: str) -> str:
        task, _, res = tok.partition(".")
        node = nodes[task]
        if not res:
            # "an unspecified result is equivalent to (task.Succeeded || task.Skipped || task.Daemoned)"
            return str(node.phase in (SUCCEEDED, SKIPPED))
        if res in ("AnySucceeded", "AllFailed"):
            # "If you depend on a task that uses withItems, you can use .AnySucceeded and .AllFailed"
            kids = [c.phase for c in node.children]
            ok = any(p == SUCCEEDED for p in kids) if res == "AnySucceeded" else bool(kids) and all(p == FAILED for p in kids)
            return str(ok)
        phase = {"Errored": ERRORED}.get(res, res)
        if res == "Daemoned":
            return "False"
        return str(node.phase == phase)

    python = _OPERAND.sub(lambda m: result(m.group(0)), expression)
    python = python.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    if not re.fullmatch(r"[\sA-Za-z()]*", python):
        raise WorkflowError(f"bad depends {expression!r}")
    return bool(eval(python, {"__builtins__": {}}, {}))  # only True/False/and/or/not/() remain



def _duration(text: str) -> float:
    """Go durations as Argo takes them (docs/retries.md: "duration": "1m", "2s"); bare numbers are seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total
