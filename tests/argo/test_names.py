"""Argo/Kubernetes name mapping: always valid, stable, collision-free, reversible when exact."""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from compiler.targets.argo import names

IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,90}", fullmatch=True)
FIELD = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@settings(max_examples=300, deadline=None)
@given(IDENT)
def test_step_names_valid_and_stable(name):
    mapped = names.k8s_name(name)
    assert FIELD.match(mapped) and len(mapped) <= 63
    assert names.k8s_name(name) == mapped
    if mapped == name.replace("_", "-"):
        assert mapped.replace("-", "_") == name          # exact mappings read back


@settings(max_examples=200, deadline=None)
@given(st.lists(IDENT, min_size=1, max_size=30, unique=True))
def test_namespace_never_collides(idents):
    ns = names.Namespace(reserved=("main",))
    mapped = [ns.add(i) for i in idents]
    assert len(set(mapped)) == len(mapped) and "main" not in mapped
    assert all(FIELD.match(m) and len(m) <= 63 for m in mapped)


@settings(max_examples=200, deadline=None)
@given(IDENT, st.one_of(st.none(), IDENT), IDENT)
def test_workflow_names(flow, project, branch):
    class P:
        flow_name = flow
        project_branch = "user." + branch
    P.project = project
    for fn, limit in ((names.workflow_template_name, 63), (names.cron_workflow_name, 52)):
        n = fn(P)
        assert len(n) <= limit
        assert re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n), n


def test_examples():
    assert names.k8s_name("join") == "join"
    assert names.k8s_name("prepare_data") == "prepare-data"
    assert names.k8s_name("Train") != names.k8s_name("train")
    assert names.is_label_value("forecast") and not names.is_label_value("data science")
    assert names.is_label_key("example.com/team") and not names.is_label_key("bad key")
