"""Argo and Kubernetes names: flow and step names mapped reversibly, shortened with a stable hash.

Rules (Argo workflow/validate/validate.go and Kubernetes apimachinery validation):
- metadata.name of a WorkflowTemplate: DNS-1123 subdomain, at most 63 characters (Argo limits it
  because the name becomes a label value); a CronWorkflow: at most 52 (Argo appends a timestamp).
- template and DAG task names: `[a-zA-Z0-9][-a-zA-Z0-9]*`, at most 128; we keep them within 63
  because they end up in pod names and labels.
- parameter names: `[-a-zA-Z0-9_]+`.
- label values: at most 63, `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`; label keys: an optional
  DNS subdomain prefix and `/`, then a name of at most 63 of the same shape.

Mapping: `prepare_data` -> `prepare-data` (reversible: `-` never occurs in a Python identifier).
A name that does not map exactly (capitals, characters outside the alphabet, too long, or already
taken in its namespace) keeps a readable prefix and gets `-<6 hex of sha256(original)>`, so the
result is stable from run to run and two different names never collide. The original names are
recorded in the WorkflowTemplate's annotations, so every mapping can be read back.
"""
from __future__ import annotations

import hashlib
import re

NAME_LIMIT = 63
CRON_NAME_LIMIT = 52

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def short_hash(text: str, n: int = 6) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def _shorten(original: str, base: str, limit: int, dots: bool) -> str:
    segments = base.lower().split(".") if dots else [base.lower()]
    segments = [re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", seg)).strip("-") for seg in segments]
    cleaned = ".".join(seg for seg in segments if seg)
    suffix = "-" + short_hash(original)
    prefix = cleaned[: limit - len(suffix)].rstrip("-.")
    return (prefix or "x") + suffix


def k8s_name(original: str, limit: int = NAME_LIMIT, *, dots: bool = False, fold_case: bool = False) -> str:
    """The exact mapping when it is valid and reversible, else a stable hashed short form."""
    base = original.replace("_", "-")
    if fold_case:
        base = base.lower()
    pattern = _DNS_SUBDOMAIN if dots else _DNS_LABEL
    if len(base) <= limit and pattern.match(base):
        return base
    return _shorten(original, base, limit, dots)


class Namespace:
    """Allocates names in one namespace (templates of a workflow, tasks of one DAG): never twice."""

    def __init__(self, limit: int = NAME_LIMIT, reserved: tuple[str, ...] = ()):
        self.limit = limit
        self.taken: dict[str, str] = {name: name for name in reserved}
        self.by_original: dict[str, str] = {}

    def add(self, original: str, key: str | None = None) -> str:
        key = original if key is None else key
        if key in self.by_original:
            return self.by_original[key]
        name = k8s_name(original, self.limit)
        if name in self.taken:
            name = _shorten(key, original.replace("_", "-"), self.limit, False)
            while name in self.taken:  # a true sha prefix clash: extend deterministically
                key = key + "'"
                name = _shorten(key, original.replace("_", "-"), self.limit, False)
        self.taken[name] = key
        self.by_original[key] = name
        return name


def flow_name(plan) -> str:
    """Like Metaflow: `project.branch.flow` under @project, else the flow name, lower case."""
    if plan.project:
        raw = f"{plan.project}.{plan.project_branch}.{plan.flow_name}"
    else:
        raw = plan.flow_name
    return raw


def workflow_template_name(plan) -> str:
    return k8s_name(flow_name(plan), NAME_LIMIT, dots=True, fold_case=True)


def cron_workflow_name(plan) -> str:
    return k8s_name(flow_name(plan), CRON_NAME_LIMIT, dots=True, fold_case=True)


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def is_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))


def is_annotation_key(key: str) -> bool:
    return is_label_key(key)


def is_param_name(name: str) -> bool:
    return bool(PARAM_NAME.match(name))


def is_dns_subdomain(name: str) -> bool:
    return len(name) <= 253 and bool(_DNS_SUBDOMAIN.match(name))


_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def is_env_name(name: str) -> bool:
    return bool(_ENV_NAME.match(name))


def not_utf8(value: str) -> str | None:
    """The first character that has no UTF-8 form (a lone surrogate, as decoding bytes that are
    not UTF-8 with surrogateescape leaves), or None. Kubernetes keeps a workflow's arguments as
    UTF-8 JSON, so such a value cannot be stored at all."""
    for ch in value:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return ch
    return None


# A container image reference (github.com/distribution/reference, reference.go grammar):
# [domain[:port]/]path-component(/path-component)*[:tag][@digest]
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
                    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")


def is_image_reference(image: str) -> bool:
    return len(image) <= 255 + 128 + 80 and bool(_IMAGE.match(image))
