"""Defaults computed by calls the front end follows (compiler/frontend/static_calls.py): os.path
and pathlib arithmetic on `__file__`, str(), and small module-level helper functions in the flow's
file or a module beside it; and the clear FC201 for calls it does not follow."""
from __future__ import annotations

import os
import textwrap

import pytest

from compiler.frontend.api import analyze_file

HEAD = '''import os
import pathlib
from pathlib import Path

from metaflow import FlowSpec, IncludeFile, Parameter, step
'''
TAIL = '''

class F(FlowSpec):
    p = Parameter("p", default=DEFAULT)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _default(tmp_path, prelude, expr, files=None):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    flow = tmp_path / "flow.py"
    flow.write_text(HEAD + textwrap.dedent(prelude) + "\nDEFAULT = " + expr + "\n" + TAIL)
    a = analyze_file(str(flow))
    errors = [(d.code, d.message) for d in a.diagnostics if d.is_error]
    if errors:
        return errors
    return next(p.default for p in a.model.parameters if p.name == "p")


def test_file_and_os_path(tmp_path):
    here = str(tmp_path)
    assert _default(tmp_path, "", "__file__") == os.path.join(here, "flow.py")
    assert _default(tmp_path, "", "os.path.join(os.path.dirname(__file__), 'a.csv')") == os.path.join(here, "a.csv")
    assert _default(tmp_path, "", "os.path.basename(__file__)") == "flow.py"
    assert _default(tmp_path, "", "os.path.splitext(os.path.basename(__file__))[0]") == "flow"
    assert _default(tmp_path, "", "os.path.abspath(os.path.join(os.path.dirname(__file__), '..', 'x'))") \
        == os.path.join(os.path.dirname(here), "x")
    assert _default(tmp_path, "", "str(Path(__file__).parent / 'data' / 'b.csv')") == os.path.join(here, "data", "b.csv")
    assert _default(tmp_path, "", "str(pathlib.Path(__file__).resolve().parent.joinpath('c'))") == os.path.join(here, "c")
    assert _default(tmp_path, "", "Path(__file__).stem + '-x'") == "flow-x"


def test_helper_functions_are_followed(tmp_path):
    prelude = '''
    def script_path(filename, sub=""):
        """As in Metaflow's tutorials."""
        import os as o
        filepath = o.path.join(o.path.dirname(__file__), sub)
        return o.path.join(filepath, filename)


    def twice(x):
        return script_path(x) + "," + script_path(x, sub="s")
    '''
    here = str(tmp_path)
    assert _default(tmp_path, prelude, "script_path('m.csv')") == os.path.join(here, "m.csv")
    assert _default(tmp_path, prelude, "twice('m')") == "%s,%s" % (os.path.join(here, "m"),
                                                                    os.path.join(here, "s", "m"))


def test_a_helper_from_a_module_beside_the_flow_uses_its_own_file(tmp_path):
    (tmp_path / "conf").mkdir()
    files = {"conf/__init__.py": "", "conf/paths.py": '''
        import os

        def data(name):
            return os.path.join(os.path.dirname(__file__), "data", name)
        '''}
    got = _default(tmp_path, "from conf.paths import data\n", "data('x.csv')", files)
    assert got == os.path.join(str(tmp_path), "conf", "data", "x.csv")


@pytest.mark.parametrize("prelude, expr, reason", [
    ("def f(x):\n    for i in x:\n        return i\n", "f([1])", "has a For statement"),
    ("def f(*a):\n    return 1\n", "f(1)", "takes *args or **kwargs"),
    ("def f(x):\n    return f(x)\n", "f(1)", "nest too deep"),
    ("def f(x):\n    return x\n", "f()", "missing the argument `x`"),
    ("def f(x):\n    return x\n", "f(1, y=2)", "has no parameter `y`"),
    ("", "os.path.abspath('rel')", "relative path depends on the directory"),
    ("", "os.getcwd()", "only evaluated when the flow runs"),
    ("def f():\n    return open('x').read()\n", "f()", "in `f()`"),
])
def test_calls_not_followed_say_why(tmp_path, prelude, expr, reason):
    got = _default(tmp_path, prelude, expr)
    assert isinstance(got, list) and got[0][0] == "FC201" and reason in got[0][1], got


def test_a_quantity_helper_with_if_raise_and_builtins(tmp_path):
    """A real flow's `disk=unit_convert(100, "GB", "MB")`."""
    prelude = '''
    def unit_convert(number, base_unit, convert_unit):
        units = ["B", "KB", "MB", "GB"]
        if base_unit not in units or convert_unit not in units:
            raise ValueError("Invalid unit")
        base_unit_index = units.index(base_unit)
        convert_unit_index = units.index(convert_unit)
        factor = pow(1024, abs(base_unit_index - convert_unit_index))
        if base_unit_index < convert_unit_index:
            return round(number / factor, 3)
        else:
            return round(number * factor, 3)
    '''
    assert _default(tmp_path, prelude, 'unit_convert(100, "GB", "MB")') == 102400
    assert _default(tmp_path, prelude, 'unit_convert(2048, "MB", "GB")') == 2.0
    got = _default(tmp_path, prelude, 'unit_convert(1, "TB", "MB")')
    assert got[0][0] == "FC201" and "raises here" in got[0][1], got
    assert _default(tmp_path, "", "max(len('abc'), int('2')) + sorted([3, 1])[0]") == 4
    assert _default(tmp_path, "", "'a-b'.upper().split('-') + [{'k': 1}.get('k')]") == ["A", "B", 1]
    assert _default(tmp_path, "import json\n", "json.dumps([0.01, 0.001])") == "[0.01, 0.001]"
    assert _default(tmp_path, "import json\n", "json.loads('{\"a\": [1]}')['a']") == [1]


def test_class_constants_are_seen_by_the_class_body_decorators(tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text('''from metaflow import FlowSpec, kubernetes, step

GPUS = 1


class F(FlowSpec):
    NUM_GPUS_PER_NODE = 8
    MEMORY = 1000 * NUM_GPUS_PER_NODE

    @kubernetes(gpu=NUM_GPUS_PER_NODE, memory=MEMORY, cpu=GPUS)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    a = analyze_file(str(flow))
    assert not [d for d in a.diagnostics if d.is_error], a.diagnostics
    k8s = a.model.steps["start"].decorators[0]
    assert (k8s.args["gpu"], k8s.args["memory"], k8s.args["cpu"]) == (8, 8000, 1)
