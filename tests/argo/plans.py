"""Hand-built FlowPlans for developing the emitter without the front end (and for shapes the
shared corpus lacks: a recursive switch, a switch inside a foreach)."""
from __future__ import annotations

from compiler.ir import Compute, FlowPlan, Retry, StepPlan
from compiler.frontend.model import ParameterDecl, Span


def step(name, kind, nxt, in_, depth=0, **kw):
    compute = kw.pop("compute", Compute(None))
    return StepPlan(name=name, kind=kind, next=list(nxt), in_=list(in_), depth=depth, compute=compute, **kw)


def plan(name, steps, parameters=(), settings=None, **kw):
    return FlowPlan(flow_name=name, flow_file=name.lower() + ".py", path=name.lower() + ".py",
                    start=steps[0].name, end=steps[-1].name, steps={s.name: s for s in steps},
                    parameters=list(parameters), settings=settings, **kw)


def param(name, default=None, required=False, type="str", attr=None):
    return ParameterDecl(attr=attr or name.replace("-", "_"), name=name, kind="parameter", type=type,
                         span=Span.point(1), default=default, has_default=default is not None, required=required)


def recursive_switch(settings=None):
    return plan("RecursiveSwitchFlow", [
        step("start", "start", ["loop"], []),
        step("loop", "switch", ["loop", "end"], ["loop", "start"], condition="state",
             cases={"again": "loop", "done": "end"}, recursive=True),
        step("end", "end", [], ["loop"]),
    ], settings=settings)


def switch_in_foreach(settings=None):
    return plan("SwitchInForeachFlow", [
        step("start", "foreach", ["route"], [], foreach_var="items", matching_join="gather"),
        step("route", "switch", ["odd", "even"], ["start"], depth=1, condition="kind",
             cases={"odd": "odd", "even": "even"}),
        step("odd", "linear", ["merge"], ["route"], depth=1),
        step("even", "linear", ["merge"], ["route"], depth=1),
        step("merge", "linear", ["gather"], ["even", "odd"], depth=1),
        step("gather", "join", ["end"], ["merge"], join_of="start", join_kind="foreach"),
        step("end", "end", [], ["gather"]),
    ], settings=settings)
