"""Hostile text for the injection tests (tests/test_hostile_*.py): every value must reach a step
byte-exact and nothing in it may run or expand. `PWN` is replaced by a per-test marker path; a
value that ran would create it."""
from __future__ import annotations

import os
import textwrap

TEMPLATES = [
    "it's",
    'say "hi" \\" \\\\',
    "`touch PWN`",
    "$(touch PWN)",
    "a; touch PWN; b",
    "x && touch PWN || touch PWN",
    "line1\nline2\n$(touch PWN)\n",
    "tab\there",
    "{{workflow.name}}",
    "{{inputs.parameters.x}}",
    "{{=1+1}}",
    "{{ workflow.uid }} {{retries}} {{item}}",
    "{{workflow.parameters.flowc-datastore}}",
    "$.x",
    "$$.Execution.Input",
    "States.Format('{}', $.run)",
    "States.JsonToString($)",
    "%s %d {} {0} ${HOME} $HOME",
    "héllo wörld \u00e9\u0301 中文 🚀 \u202eRTL",
    "\\u0041 \\x41 \\n",
    "--param",
    "-rf /",
    "=x=y",
    "' ; import os; os.system('touch PWN') ; '",
    "__import__('os').system('touch PWN')",
    "a" * 20000 + "$(touch PWN)",
]
# Characters Argo could not substitute into a template as text (Go's strconv.Quote escapes them outside JSON: tests/argo_executor/substitution.py bad_rune). Parameter
# values reach the Argo start step base64-encoded, so they arrive (tests/test_hostile_injection.py);
# the big hostile flow leaves them out on Argo; tests of their own cover them there.
CONTROL = [
    "bell\x07 esc\x1b[31m del\x7f vt\x0b cr\r bs\x08 ff\x0c",
    "tag \U000E0001 private \U000F0000",
]
TEMPLATES = TEMPLATES + CONTROL


def values(marker: str, short: bool = False, argo: bool = False) -> list[str]:
    """Parameter / IncludeFile values. short: each cut to its last 40 characters (Batch container
    overrides hold 8192; longer values fail to compile for Step Functions with FC405). argo:
    without the CONTROL values (covered by their own tests on Argo)."""
    out = [t.replace("PWN", marker) for t in TEMPLATES if not (argo and t in CONTROL)]
    return [v[-40:] if short else v for v in out]


def env_values(marker: str, argo: bool = False, short: bool = False) -> dict[str, str]:
    """The @environment vars: every value, except `{{` ones on Argo (they fail to compile, FC313)."""
    return {"E%d" % i: v for i, v in enumerate(values(marker, short)) if not (argo and "{{" in v)}


def hostile_flow(tmp_path, marker: str, *, env: bool = True, include: bool = True,
                 n_given: int = 0, argo: bool = False, short: bool = False) -> str:
    """Write the hostile flow (and its IncludeFile) to tmp_path; return the flow path.

    Parameters p<i> have hostile defaults; g<i> (n_given of them) are meant to be given hostile
    values at run time; @environment carries the hostile values as E<i>; IncludeFile `inc`
    defaults to a file holding all of them."""
    vals = values(marker, short, argo)
    params = "\n".join("    p%d = Parameter(%r, default=%r)" % (i, "p%d" % i, v) for i, v in enumerate(vals))
    params += "\n" + "\n".join("    g%d = Parameter(%r, default='unset')" % (i, "g%d" % i)
                               for i in range(n_given))
    env_deco = ("    @environment(vars=%r)\n" % env_values(marker, argo, short)) if env else ""
    inc = "    inc = IncludeFile('inc', default='hostile.txt')\n" if include else ""
    with open(os.path.join(str(tmp_path), "hostile.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(include_text(marker, short, argo))
    src = textwrap.dedent('''\
        import os
        from metaflow import FlowSpec, IncludeFile, Parameter, environment, step


        class HostileFlow(FlowSpec):
        %s
        %s
        %s    @step
            def start(self):
                self.got_params = {n: getattr(self, n) for n in %r}
                self.got_given = {n: getattr(self, n) for n in %r}
                self.got_env = {k: os.environ.get(k) for k in %r}
                self.got_inc = %s
                self.next(self.end)

            @step
            def end(self):
                self.end_params = self.got_params
        ''') % (params.replace("\n", "\n"), inc, env_deco,
                ["p%d" % i for i in range(len(vals))], ["g%d" % i for i in range(n_given)],
                sorted(env_values(marker, argo, short)) if env else [],
                "self.inc" if include else "None")
    path = os.path.join(str(tmp_path), "hostile_flow.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(src)
    return path


def include_text(marker: str, short: bool = False, argo: bool = False) -> str:
    return "\n".join(values(marker, short, argo)) + "\n\u2603 end"


def check(data, marker: str, given: dict | None = None, env: bool = True, include: bool = True,
          argo: bool = False, short: bool = False):
    """Assert the start task received every value byte-exact; `data` is a client Task.data."""
    vals = values(marker, short, argo)
    assert data.got_params == {"p%d" % i: v for i, v in enumerate(vals)}
    if given:
        assert data.got_given == given
    if env:
        assert data.got_env == env_values(marker, argo, short)
    if include:
        assert data.got_inc == include_text(marker, short, argo)
    assert not os.path.exists(marker), "a hostile value ran a command"
