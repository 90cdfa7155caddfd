"""Validation of emitted documents: Hera's generated Argo models made strict (unknown fields
refused), Argo's strict JSON schema when ../shared is beside the checkout (CI lays it there; a
user's clone has none), and Argo/Kubernetes name rules."""
from __future__ import annotations

import functools
import inspect
import json
import os
import pkgutil
import re

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "schemas",
                      "argo-workflows-v4.1.2.strict.schema.json")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_FIELD = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_PARAM = re.compile(r"^[-a-zA-Z0-9_]+$")


@functools.lru_cache(maxsize=None)
def strict_models():
    """Hera's Argo models with extra="forbid" on every class (rebuilt so nested models forbid too)."""
    import pydantic
    import hera.workflows.models as models

    classes = []
    for info in pkgutil.walk_packages(models.__path__, models.__name__ + "."):
        module = __import__(info.name, fromlist=["_"])
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, pydantic.BaseModel) and cls.__module__ == module.__name__:
                classes.append(cls)
    for cls in classes:
        cls.model_config["extra"] = "forbid"
    for cls in classes:
        cls.model_rebuild(force=True)
    return models


def validate_hera(doc: dict) -> None:
    models = strict_models()
    kind = doc["kind"]
    if kind == "ConfigMap":
        # Hera has no ConfigMap model: check its fields (core/v1 ConfigMap) and its ObjectMeta.
        assert set(doc) <= {"apiVersion", "kind", "metadata", "binaryData", "data", "immutable"}, set(doc)
        assert doc["apiVersion"] == "v1"
        models.ObjectMeta.model_validate(doc["metadata"])
        assert all(isinstance(v, str) for v in doc["binaryData"].values())
        return
    getattr(models, kind).model_validate(doc)


@functools.lru_cache(maxsize=1)
def _schema_validator():
    if not os.path.exists(SCHEMA):
        return None
    import jsonschema

    with open(SCHEMA) as f:
        schema = json.load(f)
    return jsonschema.Draft202012Validator(schema)   # the draft the issue and the stop hook name


def validate_schema(doc: dict) -> bool:
    """True when validated; False when the schema is not available here."""
    validator = _schema_validator()
    if validator is None or doc["kind"] == "ConfigMap":
        return validator is not None
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        best = min(errors, key=lambda e: len(list(e.path)))
        raise AssertionError(f"{doc['kind']} {doc['metadata']['name']}: {best.message} at {list(best.path)}")
    return True


def validate_names(doc: dict) -> None:
    name = doc["metadata"]["name"]
    limit = 52 if doc["kind"] == "CronWorkflow" else 63
    assert len(name) <= limit and _DNS_SUBDOMAIN.match(name), name
    for key, value in (doc["metadata"].get("labels") or {}).items():
        assert len(value) <= 63 and re.match(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", value), value
    if doc["kind"] == "ConfigMap":
        assert "code.zip" in doc["binaryData"]
        return
    spec = doc["spec"]
    if doc["kind"] == "CronWorkflow":
        return
    for p in spec.get("arguments", {}).get("parameters", []):
        assert _PARAM.match(p["name"]), p["name"]
        assert "value" not in p or isinstance(p["value"], str), p
    names = [t["name"] for t in spec["templates"]]
    assert len(names) == len(set(names)), names
    for t in spec["templates"]:
        assert _FIELD.match(t["name"]) and len(t["name"]) <= 63, t["name"]
        for p in (t.get("inputs") or {}).get("parameters", []) + (t.get("outputs") or {}).get("parameters", []):
            assert _PARAM.match(p["name"]), p["name"]
        if "dag" in t:
            tasks = [x["name"] for x in t["dag"]["tasks"]]
            assert len(tasks) == len(set(tasks)), tasks
            for x in tasks:
                assert _FIELD.match(x) and len(x) <= 63, x
            for x in t["dag"]["tasks"]:
                assert x["template"] in names


def validate_all(doc: dict) -> None:
    validate_hera(doc)
    validate_schema(doc)
    validate_names(doc)
