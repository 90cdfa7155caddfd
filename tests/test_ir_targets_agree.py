"""The IR's resolved values are what both targets emit today (image, queue, timeout backstop,
parameter default text, workflow name), so a target can read them from the plan without its own
fallbacks. Checked on the compiled output, not on target internals."""
from __future__ import annotations

import json
import os
import re

import pytest

from tests.argo import helpers as argo_h
from tests.stepfunctions import helpers as sfn_h

FLOWS = argo_h.shared_flows()
IDS = [os.path.basename(p) for p in FLOWS]


def _plain_params(plan):
    """Parameters whose workflow argument is their default text (IncludeFile carries content)."""
    return [p for p in plan.parameters if p.kind != "include_file"]


@pytest.mark.parametrize("path", FLOWS, ids=IDS)
def test_argo_output_agrees_with_the_plan(path):
    plan = argo_h.plan_of(path)
    docs = argo_h.documents(path)
    (template,) = [d for d in docs if d["kind"] == "WorkflowTemplate"]
    if re.fullmatch(r"[A-Za-z0-9.]{1,63}", plan.qualified_name):
        assert template["metadata"]["name"] == plan.qualified_name.lower()
    arguments = {a["name"]: a.get("value") for a in template["spec"]["arguments"]["parameters"]}
    for p in _plain_params(plan):
        expected = None if p.required else p.default_text
        assert arguments[p.name] == expected, p.name
    assert template["spec"]["templateDefaults"]["container"]["image"] == plan.image
    by_name = {t["name"]: t for t in template["spec"]["templates"]}
    for step in plan.steps.values():
        t = by_name.get(step.name.replace("_", "-"))
        if t is None or "container" not in t:
            continue
        assert t["container"].get("image", plan.image) == step.compute.image, step.name
        if step.timeout_seconds and step.compute.backend != "batch":
            assert t["activeDeadlineSeconds"] == str(step.pod_deadline_seconds)
            assert step.pod_deadline_seconds >= step.backstop_timeout_seconds + 600   # the image pull


@pytest.mark.parametrize("path", FLOWS, ids=IDS)
def test_step_functions_output_agrees_with_the_plan(path):
    settings = sfn_h.make_settings()
    plan = argo_h.plan_of(path, settings)
    files, diagnostics = sfn_h.emit(path, settings)
    assert files, [(d.code, d.message) for d in diagnostics if d.is_error]
    (asl_file,) = [f for f in files if f.name.endswith(".asl.json")]
    assert asl_file.name == re.sub(r"[^A-Za-z0-9._-]", "_", plan.qualified_name) + ".asl.json"
    states = json.loads(asl_file.content)["States"]
    defaults = states["Init"]["Parameters"]["defaults"]
    assert defaults == {p.name: p.default_text for p in _plain_params(plan) if p.default_text is not None}
    for step in plan.steps.values():
        state = states.get(step.name)
        if state is None or "batch:submitJob" not in str(state.get("Resource")):
            continue
        params = state["Parameters"]
        if step.compute.queue:
            assert params["JobQueue"] == step.compute.queue
        if step.backstop_timeout_seconds:
            assert params["Timeout"] == {"AttemptDurationSeconds": step.backstop_timeout_seconds}
        else:
            assert "Timeout" not in params
