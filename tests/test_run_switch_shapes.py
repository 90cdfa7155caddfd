"""Metaflow 2.19's switch shapes under `flowc run`: each run takes the path its parameters pick,
runs exactly its steps (read back with the client), and passes its `end` asserts."""
from __future__ import annotations

import os

import pytest

from tests.runtime_fixtures import file_root, run
from tests.switch_shapes import CASES, IDS, OWN, all_steps, flow_class


@pytest.mark.parametrize("flow,params,ran", CASES, ids=IDS)
def test_switch_shape_takes_its_path(tmp_path, flow, params, ran):
    from runtime_shim.client import Run

    root = file_root(tmp_path)
    code, rid, out = run(os.path.join(OWN, flow), *("%s=%s" % kv for kv in params.items()), datastore=root)
    assert code == 0, out
    r = Run("%s/%s" % (flow_class(flow), rid), datastore=root)
    assert r.successful
    steps = {s.id for s in r}
    assert steps == ran, (sorted(steps), sorted(ran))
    assert not (all_steps(flow) - ran) & steps
