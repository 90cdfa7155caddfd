"""The API server's rules that tests/k8s_double.py enforces: object validation (names, labels,
quantities), label and field selectors, and Status bodies shaped as the real server sends them.

Semantics follow the Kubernetes API conventions (read for behaviour, not copied):
- names: a DNS-1123 subdomain (lowercase alphanumerics, '-', '.', at most 253, alphanumeric at both
  ends); a Job's name must also be a valid label value (63), since it becomes the pods' job-name label;
- label keys: an optional DNS subdomain prefix and '/', then a name of at most 63
  ([A-Za-z0-9] at both ends, '-', '_', '.' inside); values: empty or the same pattern as a name;
- quantities: `[+-]<number><suffix>` with a binary (Ki..Ei), decimal (n u m k M G T P E) or
  exponent suffix; container requests must not exceed limits;
- errors: a Status with `reason` (Invalid, NotFound, AlreadyExists, Conflict, BadRequest, ...),
  `details` (name, group, kind, causes) and `code`.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
_SUFFIX = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
           "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1, "k": 10 ** 3,
           "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                 "'-' or '.', and must start and end with an alphanumeric character")
LABEL_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
             "or '.', and must start and end with an alphanumeric character")


def subdomain_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append("must be no more than 253 characters")
    if not _SUBDOMAIN.match(value):
        errors.append(SUBDOMAIN_MSG)
    return errors


def label_value_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if value and not _LABEL_NAME.match(value):
        errors.append(LABEL_MSG)
    return errors


def label_key_errors(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    errors = [] if not prefix else ["prefix part " + e for e in subdomain_errors(prefix)]
    if not name:
        errors.append("name part must be non-empty")
    else:
        errors += ["name part " + e for e in label_value_errors(name)]
    return errors


def parse_quantity(text: str) -> Decimal:
    """A quantity's value (raises ValueError when it is not one)."""
    text = str(text).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(text)
    suffix = match.group(3) or ""
    number = text[: len(text) - len(suffix)]
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * Decimal(_SUFFIX[suffix])
    except (InvalidOperation, KeyError):
        raise ValueError(text) from None


def validate(api: str, kind: str, body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The causes (field, value, message) that make `body` invalid; empty when it is valid."""
    causes: list[tuple[str, str, str]] = []
    meta = body.get("metadata") or {}
    name = str(meta.get("name", ""))
    if not name:
        causes.append(("metadata.name", "", "name or generateName is required"))
    else:
        for message in subdomain_errors(name):
            causes.append(("metadata.name", name, message))
        if kind == "Job":
            for message in label_value_errors(name):
                causes.append(("metadata.labels", name, message))
    _labels(causes, "metadata.labels", meta.get("labels"))
    if kind == "Job":
        spec = body.get("spec") or {}
        for key in ("backoffLimit", "activeDeadlineSeconds"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, int) or value < (0 if key == "backoffLimit" else 1)):
                causes.append(("spec." + key, str(value), "must be greater than or equal to %d"
                               % (0 if key == "backoffLimit" else 1)))
        template = spec.get("template") or {}
        _labels(causes, "spec.template.metadata.labels", (template.get("metadata") or {}).get("labels"))
        _pod_spec(causes, "spec.template.spec", template.get("spec") or {})
    elif kind == "Pod":
        _pod_spec(causes, "spec", body.get("spec") or {})
    return causes


def _labels(causes: list, field: str, labels: Any) -> None:
    for key, value in sorted((labels or {}).items()):
        for message in label_key_errors(str(key)):
            causes.append((field, str(key), message))
        if not isinstance(value, str):
            causes.append(("%s[%s]" % (field, key), str(value), "must be a string"))
            continue
        for message in label_value_errors(value):
            causes.append(("%s[%s]" % (field, key), value, message))


def _pod_spec(causes: list, field: str, spec: dict[str, Any]) -> None:
    if spec.get("restartPolicy") not in (None, "Never", "OnFailure", "Always"):
        causes.append((field + ".restartPolicy", str(spec["restartPolicy"]), "supported values: \"Always\", \"OnFailure\", \"Never\""))
    containers = spec.get("containers") or []
    if not containers:
        causes.append((field + ".containers", "", "Required value"))
    for i, container in enumerate(containers):
        where = "%s.containers[%d]" % (field, i)
        if not container.get("image"):
            causes.append((where + ".image", "", "Required value"))
        resources = container.get("resources") or {}
        parsed: dict[str, dict[str, Decimal]] = {}
        for part in ("requests", "limits"):
            for resource, value in sorted((resources.get(part) or {}).items()):
                try:
                    parsed.setdefault(part, {})[resource] = parse_quantity(value)
                except ValueError:
                    causes.append(("%s.resources.%s[%s]" % (where, part, resource), str(value),
                                   "quantities must match the regular expression "
                                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
        for resource, request in parsed.get("requests", {}).items():
            limit = parsed.get("limits", {}).get(resource)
            if limit is not None and request > limit:
                causes.append(("%s.resources.requests" % where, str(resources["requests"][resource]),
                               "must be less than or equal to %s limit of %s" % (resource, resources["limits"][resource])))


# -- selectors ---------------------------------------------------------------------------------

_REQ = re.compile(r"^\s*(?P<neg>!)?\s*(?P<key>[^\s!=,()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()]*)"
                  r"|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*$")


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def parse_label_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """(key, op, values) with op one of = != in notin exists !exists; ValueError when malformed."""
    requirements = []
    for part in _split_top(text or ""):
        match = _REQ.match(part)
        if not match:
            raise ValueError("unable to parse requirement: %r" % part.strip())
        key = match["key"]
        if label_key_errors(key):
            raise ValueError("invalid label key %r" % key)
        if match["neg"]:
            if match["op"] or match["setop"]:
                raise ValueError("unable to parse requirement: %r" % part.strip())
            requirements.append((key, "!exists", set()))
        elif match["op"]:
            requirements.append((key, "!=" if match["op"] == "!=" else "=", {match["value"]}))
        elif match["setop"]:
            values = {v.strip() for v in match["values"].split(",") if v.strip()}
            requirements.append((key, match["setop"], values))
        else:
            requirements.append((key, "exists", set()))
    return requirements


def labels_match(requirements: list[tuple[str, str, set[str]]], labels: dict[str, str]) -> bool:
    for key, op, values in requirements:
        present, value = key in labels, labels.get(key)
        ok = {"=": present and value in values, "in": present and value in values,
              "!=": not present or value not in values, "notin": not present or value not in values,
              "exists": present, "!exists": not present}[op]
        if not ok:
            return False
    return True


FIELDS = {"*": ("metadata.name", "metadata.namespace"),
          "pods": ("metadata.name", "metadata.namespace", "status.phase", "spec.nodeName",
                   "spec.restartPolicy", "spec.serviceAccountName", "status.podIP"),
          "jobs": ("metadata.name", "metadata.namespace", "status.successful"),
          "secrets": ("metadata.name", "metadata.namespace", "type")}


def parse_field_selector(plural: str, text: str) -> list[tuple[str, bool, str]]:
    """(field, equal?, value); ValueError names a field the kind does not support (a 400)."""
    out = []
    for part in [p for p in (text or "").split(",") if p.strip()]:
        match = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not match:
            raise ValueError("invalid selector: %r" % part)
        field, op, value = match.groups()
        if field not in FIELDS.get(plural, FIELDS["*"]):
            raise ValueError('field label not supported: %s' % field)
        out.append((field, op != "!=", value))
    return out


def fields_match(requirements: list[tuple[str, bool, str]], obj: dict[str, Any]) -> bool:
    for field, equal, value in requirements:
        current: Any = obj
        for part in field.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if (str(current if current is not None else "") == value) != equal:
            return False
    return True


# -- Status bodies -------------------------------------------------------------------------------

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable", 504: "Timeout"}


def status(code: int, message: str, reason: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure" if code >= 400 else "Success", "message": message,
                            "reason": reason or REASONS.get(code, "Unknown" if code >= 400 else ""), "code": code}
    if details is not None:
        body["details"] = details
    if code < 400:
        body.pop("reason")
    return body


def invalid(qualified: str, group: str, plural: str, name: str,
            causes: list[tuple[str, str, str]]) -> dict[str, Any]:
    """422 Invalid with one cause per field, the message listing them as the server does."""
    listed = ["%s: Invalid value: %r: %s" % (f, v, m) for f, v, m in causes]
    message = '%s "%s" is invalid: %s' % (qualified, name, ", ".join(listed) if len(listed) == 1
                                           else "[" + ", ".join(listed) + "]")
    return status(422, message, "Invalid", {
        "name": name, "group": group, "kind": plural,
        "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: %r: %s" % (v, m), "field": f}
                   for f, v, m in causes]})
