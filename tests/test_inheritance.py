"""Flows whose base classes live in a module beside the flow (compiler/frontend/inherit.py):
steps, parameters, configs and flow decorators are inherited; a problem in a base is reported
where the flow names the base (the parser's own diagnostics add a note naming the base's file
and line)."""
from __future__ import annotations

import os
import textwrap

from compiler.frontend.api import analyze_file

HERE = os.path.dirname(os.path.abspath(__file__))
INHERIT = os.path.join(HERE, "flows", "valid_own", "inherit", "flow_inherit.py")


def test_the_model_holds_what_the_bases_define():
    a = analyze_file(INHERIT)
    assert not [d for d in a.diagnostics if d.is_error], a.diagnostics
    m = a.model
    assert list(m.steps) == ["start", "end", "middle"] or set(m.steps) == {"start", "middle", "end"}
    assert [d.name for d in m.steps["start"].decorators] == ["retry"]
    assert [d.name for d in m.steps["middle"].decorators] == ["resources"]
    assert {p.name for p in m.parameters} == {"alpha", "settings", "tag_line"}
    assert [d.name for d in m.decorators] == ["project"]
    assert "base_flows.py" in [os.path.basename(p) for p in m.local_modules]


def _write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))


def test_a_problem_in_a_base_points_where_the_flow_names_the_base(tmp_path):
    _write(tmp_path, {"base.py": '''
        from metaflow import FlowSpec, retry, step


        class Base(FlowSpec):
            @retry(tims=2)
            @step
            def start(self):
                self.next(self.end)
        ''', "flow.py": '''
        from base import Base
        from metaflow import step


        class F(Base):
            @step
            def end(self):
                pass
        '''})
    a = analyze_file(str(tmp_path / "flow.py"))
    bad = [d for d in a.diagnostics if d.code == "FC203"]
    assert len(bad) == 1 and (bad[0].span.line, bad[0].span.col) == (6, 9), a.diagnostics   # `Base` in flow.py
    assert bad[0].path == str(tmp_path / "flow.py")


def test_a_base_that_is_no_flow_class_is_no_flow(tmp_path):
    _write(tmp_path, {"base.py": "class Base:\n    pass\n", "flow.py": '''
        from base import Base


        class F(Base):
            pass
        '''})
    assert [d.code for d in analyze_file(str(tmp_path / "flow.py")).diagnostics] == ["FC003"]


def test_the_flows_own_flow_decorator_replaces_the_bases(tmp_path):
    _write(tmp_path, {"base.py": '''
        from metaflow import FlowSpec, project, step


        @project(name="base_name")
        class Base(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        ''', "flow.py": '''
        from base import Base
        from metaflow import project


        @project(name="own_name")
        class F(Base):
            pass
        '''})
    a = analyze_file(str(tmp_path / "flow.py"))
    assert [(d.name, d.args.get("name")) for d in a.model.decorators] == [("project", "own_name")]


def test_a_base_re_exported_by_a_package_with_its_parser_constant(tmp_path):
    """`from flowproject import BaseFlow` where flowproject/__init__.py re-exports it, and the
    base's Config names its parser through the optional-import idiom."""
    (tmp_path / "flowproject").mkdir()
    (tmp_path / "flowproject.toml").write_text('project_name = "weather"\n')
    _write(tmp_path, {"flowproject/__init__.py": '''
        from .baseflow import BaseFlow, toml_parser
        ''', "flowproject/baseflow.py": '''
        from metaflow import Config, FlowSpec

        try:
            import tomllib

            toml_parser = "tomllib.loads"
        except ImportError:
            toml_parser = "toml.loads"


        class BaseFlow(FlowSpec):
            flowconfig = Config("flowconfig", default="flowproject.toml", parser=toml_parser)
        ''', "flow.py": '''
        from flowproject import BaseFlow
        from metaflow import config_expr, project, step


        @project(name=config_expr("flowconfig.project_name"))
        class SensorFlow(BaseFlow):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        '''})
    a = analyze_file(str(tmp_path / "flow.py"))
    assert not [d for d in a.diagnostics if d.is_error], a.diagnostics
    assert [(d.name, d.args["name"]) for d in a.model.decorators] == [("project", "weather")]
