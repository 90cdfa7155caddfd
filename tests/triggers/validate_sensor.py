"""Validation of compiled Sensors: Argo Events' own JSON schema (v1.9.11) made strict (every object
with declared properties refuses others) when ../shared/schemas is beside the checkout; always,
Hera's generated Argo Events models made strict (extra="forbid"), with the k8s trigger's resource,
which Argo Events types as arbitrary data, checked as the Workflow it is by the strict Argo
Workflows models (tests/argo/validate.py)."""
from __future__ import annotations

import copy
import functools
import inspect
import json
import os

# imported before anything makes the Argo Workflows models strict: they share hera's base
# model_config, and a RootModel defined after `extra` is set there cannot be built
import hera.events.models  # noqa: F401

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "schemas",
                      "argo-events-v1.9.11.schema.json")


def _strict(node):
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@functools.lru_cache(maxsize=1)
def schema_validator():
    if not os.path.exists(SCHEMA):
        return None
    import jsonschema

    with open(SCHEMA) as f:
        schema = _strict(json.load(f))
    schema = {"definitions": schema["definitions"], "$ref": "#/definitions/io.argoproj.events.v1alpha1.Sensor"}
    # its $schema names no draft jsonschema knows; the draft tests/argo/validate.py uses
    return jsonschema.Draft202012Validator(schema)


def validate_schema(doc: dict) -> bool:
    """True when validated, False when the schema is not here; AssertionError when invalid."""
    validator = schema_validator()
    if validator is None:
        return False
    errors = list(validator.iter_errors(doc))
    if errors:
        best = min(errors, key=lambda e: len(list(e.absolute_path)))
        raise AssertionError(f"Sensor {doc['metadata']['name']}: {best.message} at {list(best.absolute_path)}")
    return True


@functools.lru_cache(maxsize=None)
def strict_event_models():
    import sys

    import hera.events.models as models
    import pydantic

    classes = []
    # every module of the generated models (some folders are namespace packages, which
    # pkgutil.walk_packages does not enter): importing hera.events.models imported them all
    for name, module in sorted(sys.modules.items()):
        if not name.startswith(models.__name__ + ".") or module is None:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, pydantic.BaseModel) and cls.__module__ == module.__name__ \
                    and not issubclass(cls, pydantic.RootModel):
                classes.append(cls)
    for cls in classes:
        cls.model_config = dict(cls.model_config, extra="forbid")
    for _ in range(2):   # a model rebuilt before the models it holds keeps their old schema: twice
        for cls in classes:
            cls.model_rebuild(force=True)
    return models


def validate_models(doc: dict) -> None:
    from tests.argo.validate import validate_hera

    assert doc["apiVersion"] == "argoproj.io/v1alpha1" and doc["kind"] == "Sensor"
    models = strict_event_models()
    body = copy.deepcopy(doc)
    for trigger in body["spec"]["triggers"]:
        resource = trigger["template"]["k8s"]["source"].pop("resource")
        validate_hera(resource)      # the Workflow it creates, strictly
    models.Sensor.model_validate({k: v for k, v in body.items() if k not in ("apiVersion", "kind")})


def validate_sensor(doc: dict) -> None:
    validate_models(doc)
    validate_schema(doc)
