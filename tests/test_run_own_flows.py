"""Every flow of our own valid corpus (every graph shape Metaflow supports) completes under
`flowc run`; each asserts its own results in `end`, so a finished run computed the right thing."""
import glob
import os

import pytest

from tests.runtime_fixtures import file_root, run

OWN = os.path.join(os.path.dirname(__file__), "flows", "valid_own")
FLOWS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(OWN, "*.py")))


def test_the_corpus_is_there():
    assert len(FLOWS) >= 20


@pytest.mark.parametrize("flow", FLOWS)
def test_own_flow_runs(tmp_path, flow):
    code, rid, out = run(os.path.join(OWN, flow), datastore=file_root(tmp_path))
    assert code == 0, out
    assert rid
