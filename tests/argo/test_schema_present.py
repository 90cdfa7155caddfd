"""The strict Argo schema must not silently drop out where it is supposed to be: CI lays ../shared
beside the checkout, so there every emitted document is checked against it (elsewhere Hera's
strict models still check every document)."""
import os

import pytest

from compiler.pipeline import compile_file
from compiler.settings import resolve

from .validate import SCHEMA, validate_schema

FLOW = os.path.join(os.path.dirname(__file__), "..", "flows", "shared", "valid", "foreach.py")


SHARED = os.path.normpath(os.path.join(os.path.dirname(SCHEMA), ".."))


@pytest.mark.skipif(not os.path.isdir(SHARED),
                    reason="no ../shared beside this clone (a user's clone); Hera's strict models still run")
def test_strict_schema_is_used_when_shared_is_beside_the_checkout():
    assert os.path.exists(SCHEMA), f"../shared is here, so the strict schema must be at {os.path.normpath(SCHEMA)}"
    import yaml

    result = compile_file(FLOW, "argo", settings=resolve({"datastore": "s3://b/flowc"}))
    docs = [d for f in result.files for d in yaml.safe_load_all(f.content)]
    assert [validate_schema(d) for d in docs if d["kind"] != "ConfigMap"] == [True] * (len(docs) - 1)
    broken = dict(docs[-1], spec=dict(docs[-1]["spec"], notAField=1))
    with pytest.raises(AssertionError):
        validate_schema(broken)
