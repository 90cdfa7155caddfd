"""The Argo target's refusals: every code fires with a line and column, each code has one meaning,
and `flowc explain` documents it."""
from __future__ import annotations


import pytest

from compiler import settings as S
from compiler.diagnostics.codes import REGISTRY
from compiler.pipeline import compile_file
from compiler.targets.argo import codes

FLOW = '''\
from metaflow import FlowSpec, IncludeFile, Parameter, batch, environment, schedule, step


{schedule}class F(FlowSpec):
{params}
    @step
    def start(self):
        self.next(self.loop)

{loop_decos}    @step
    def loop(self):
        self.n = getattr(self, "n", 0) + 1
        self.state = "again" if self.n < 2 else "done"
        self.next({{"again": self.loop, "done": self.end}}, condition="state")

    @step
    def end(self):
        pass
'''


def _compile(tmp_path, *, schedule="", params="    x = Parameter('x', default='1')\n", loop_decos="", **flags):
    path = tmp_path / "f.py"
    path.write_text(FLOW.format(schedule=schedule, params=params, loop_decos=loop_decos))
    st = S.resolve({"datastore": "s3://b/p", **flags}, flow_dir="/", environ={})
    return compile_file(str(path), "argo", settings=st)


def _one(result, code):
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [(d.code, d.message) for d in result.diagnostics]
    return found[0]


def test_fc309_bad_cron_has_line_and_column(tmp_path):
    d = _one(_compile(tmp_path, schedule="@schedule(cron='0 6 L * *')\n"), codes.BAD_SCHEDULE)
    assert d.is_error and (d.span.line, d.span.col) == (4, 16) and "failed to parse int" in d.message


def test_fc309_bad_timezone_has_line_and_column(tmp_path):
    d = _one(_compile(tmp_path, schedule="@schedule(cron='0 6 * * *', timezone='Mars/Olympus')\n"), codes.BAD_SCHEDULE)
    assert (d.span.line, d.span.col) == (4, 38)


@pytest.mark.parametrize("cron", ["0 6 * * *", "*/15 0-6 1,15 JAN-mar mon-FRI", "@daily", "@every 1h30m",
                                  "0 12 ? * SUN", "5/10 * * * *", "TZ=Europe/Paris 0 6 * * *"])
def test_cron_forms_argo_accepts_compile(tmp_path, cron):
    result = _compile(tmp_path, schedule="@schedule(cron=%r)\n" % cron)
    assert codes.BAD_SCHEDULE not in [d.code for d in result.diagnostics], [d.message for d in result.diagnostics]


def test_fc309_bad_argo_version(tmp_path):
    assert _one(_compile(tmp_path, argo_version="latest"), codes.BAD_SCHEDULE).is_error


def test_fc313_template_tag_has_line_and_column(tmp_path):
    d = _one(_compile(tmp_path, loop_decos="    @environment(vars={'G': '{{workflow.name}}'})\n"), codes.TEMPLATE_TAG)
    assert d.is_error and (d.span.line, d.span.col) == (13, 9)


def test_fc315_batch_needs_s3_has_line_and_column(tmp_path):
    d = _one(_compile(tmp_path, loop_decos="    @batch(queue='q')\n", datastore="file:///tmp/ds"), codes.BATCH_NEEDS_S3)
    assert d.code == "FC315" and d.is_error and (d.span.line, d.span.col) == (13, 9)


def test_fc316_recursion_bound_has_line_and_column(tmp_path):
    d = _one(_compile(tmp_path), codes.RECURSION_DEPTH)
    assert not d.is_error and "970 passes" in d.message and (d.span.line, d.span.col) == (12, 9)


def test_fc317_parameter_default_too_large_has_line_and_column(tmp_path):
    result = _compile(tmp_path, params="    x = Parameter('x', default=%r)\n" % ("v" * 100 * 1024))
    d = _one(result, codes.VALUE_TOO_LARGE)
    assert d.is_error and (d.span.line, d.span.col) == (5, 5)
    assert codes.VALUE_TOO_LARGE not in [d.code for d in _compile(tmp_path, params="    x = Parameter('x', default=%r)\n" % ("v" * 90000)).diagnostics]


def test_each_code_has_one_meaning_and_docs():
    values = [v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str) and v.startswith("FC")]
    assert len(values) == len(set(values))
    for code in values:
        doc = REGISTRY[code]
        assert doc.code == code
    assert "never substituted" not in REGISTRY[codes.TEMPLATE_TAG].fix
    assert "twice" in REGISTRY[codes.TEMPLATE_TAG].what
