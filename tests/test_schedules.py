"""@schedule is validated the same way for both targets, with line and column, before any output."""
from __future__ import annotations

import pytest

from compiler.pipeline import compile_file
from compiler.settings import resolve

FLOW = '''\
from metaflow import FlowSpec, schedule, step


@schedule({args})
class SchedFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
CODE = {"argo": "FC309", "stepfunctions": "FC412"}


def _compile(tmp_path, args, target, **flags):
    path = tmp_path / "flow.py"
    path.write_text(FLOW.format(args=args))
    settings = resolve({"datastore": "s3://bucket/p", "batch_queue": "q", **flags}, environ={})
    return compile_file(str(path), target, settings=settings)


@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
@pytest.mark.parametrize("args, where, words", [
    ('cron="99 * * * *"', (4, 16), "above maximum (59)"),
    ('cron="0 * * * * ; rm -rf /"', (4, 16), "expected exactly 5 fields"),
    ('cron="0 25 * * *"', (4, 16), "above maximum (23)"),
    ('cron="0 6 * * 1-9"', (4, 16), "above maximum (6)"),
    ('cron="*/0 * * * *"', (4, 16), "positive number"),
    ('cron="0 6 * * *", timezone="Mars/Olympus"', (4, 38), "unknown timezone 'Mars/Olympus'"),
    ('cron="0 6 * * *", timezone="../../etc/passwd"', (4, 38), "unknown timezone"),
])
def test_bad_schedules_are_refused_with_a_position(tmp_path, target, args, where, words):
    result = _compile(tmp_path, args, target)
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == [CODE[target]], errors
    assert (errors[0].span.line, errors[0].span.col) == where
    assert words in errors[0].message
    assert not result.files


@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
@pytest.mark.parametrize("args", ['cron="0 6 * * 1-5", timezone="Europe/Berlin"', 'cron="*/15 0-6 1,15 jan-mar *"',
                                  "daily=True", "hourly=True", "weekly=True"])
def test_good_schedules_compile(tmp_path, target, args):
    result = _compile(tmp_path, args, target)
    assert result.ok, [d.message for d in result.diagnostics]


def test_scheduled_flow_without_a_datastore_is_an_error_on_argo(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(FLOW.format(args='cron="0 6 * * *"'))
    result = compile_file(str(path), "argo", settings=resolve({}, environ={}))
    errors = [d for d in result.diagnostics if d.is_error]
    assert [(d.code, d.span.line) for d in errors] == [("FC307", 4)]
    # the same flow without @schedule only warns: a submission can pass the datastore
    path.write_text(FLOW.format(args='cron="0 6 * * *"').replace("@schedule(cron=\"0 6 * * *\")\n", ""))
    plain = compile_file(str(path), "argo", settings=resolve({}, environ={}))
    assert plain.ok and [d.code for d in plain.diagnostics] == ["FC307"]


def test_eventbridge_expression_is_built_from_the_fields(tmp_path):
    result = _compile(tmp_path, 'cron="30 6 * * 1-5", timezone="Europe/Berlin"', "stepfunctions")
    schedule = next(f for f in result.files if f.name.endswith(".schedule.json")).documents[0]
    assert schedule["ScheduleExpression"] == "cron(30 6 ? * 2-6 *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
