"""No recursion proportional to a flow's size: long chains and deep nesting compile on both
targets, or are refused with a code where the engine itself cannot hold them (never a traceback)."""
from __future__ import annotations

import json

import pytest

from compiler.pipeline import compile_file
from compiler.targets.stepfunctions.codes import MAX_DEFINITION_BYTES
from tests.flowshapes import long_linear, nested_splits


def _settings():
    from compiler.settings import resolve

    return resolve({"datastore": "s3://bucket/flows", "batch_queue": "queue"}, environ={})


def _compile(tmp_path, text, target):
    path = tmp_path / "flow.py"
    path.write_text(text)
    return compile_file(str(path), target, settings=_settings())


@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
def test_1500_step_chain_compiles(tmp_path, target):
    result = _compile(tmp_path, long_linear(1500), target)
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    assert len(result.plan.steps) == 1502


def test_2000_step_chain_on_argo(tmp_path):
    result = _compile(tmp_path, long_linear(2000), "argo")
    assert result.ok
    dag = next(t for t in result.files[-1].documents[-1]["spec"]["templates"] if t["name"] == "main")
    assert len(dag["dag"]["tasks"]) == 2002


def _asl(result) -> tuple[bytes, dict]:
    asl = next(f for f in result.files if f.name.endswith(".asl.json"))
    return asl.content, json.loads(asl.content)


def test_2000_step_chain_on_step_functions(tmp_path):
    result = _compile(tmp_path, long_linear(2000), "stepfunctions")
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    content, definition = _asl(result)
    # The file is what deploy sends (and what Terraform or CDK would upload): within 1 MB as written.
    assert len(content) <= MAX_DEFINITION_BYTES
    assert len(definition["States"]) == 2003                 # Init + 2,002 steps
    assert definition["States"]["s1999"]["Next"] == "end"


def test_a_definition_that_fits_only_compact_is_written_compact(tmp_path):
    small = _compile(tmp_path, long_linear(3), "stepfunctions")
    assert _asl(small)[0].startswith(b'{\n  "Comment"')      # indented for review when it fits
    content, _ = _asl(_compile(tmp_path, long_linear(2000), "stepfunctions"))
    assert b"\n" not in content.rstrip(b"\n")


def test_past_the_size_limit_is_a_diagnostic_not_a_crash(tmp_path):
    result = _compile(tmp_path, long_linear(2600), "stepfunctions")
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["FC403"]
    assert "Step Functions allows 1048576" in errors[0].message


def test_2000_step_nested_splits(tmp_path):
    text = nested_splits(90, chain=19)          # 1,983 steps, 90 splits deep
    argo = _compile(tmp_path, text, "argo")
    assert argo.ok and len(argo.plan.steps) == 1983
    sfn = _compile(tmp_path, text, "stepfunctions")
    assert sfn.ok, [d.message for d in sfn.diagnostics if d.is_error]
    content, definition = _asl(sfn)
    assert len(content) <= MAX_DEFINITION_BYTES
    depth, states = 0, definition["States"]
    while True:                                   # follow the Parallel states inward
        par = next((s for s in states.values() if s["Type"] == "Parallel"), None)
        if par is None:
            break
        depth += 1
        states = par["Branches"][1]["States"]
    assert depth == 90
    assert "leaf" in states


def test_nesting_past_the_limit_is_a_diagnostic(tmp_path):
    result = _compile(tmp_path, nested_splits(150), "stepfunctions")
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["FC411"]
    assert errors[0].span is not None and errors[0].span.line > 1
