"""Tests written to kill mutants that survived the sampled mutation run (tests/README.md,
"Mutation score"): each names the behaviour the mutant broke."""
from __future__ import annotations

from runtime_shim.datastore import FlowDatastore
from tests.runtime_fixtures import file_root


def _task(ds, run, step, task):
    ds.write_task({"run_id": run, "step": step, "task_id": task, "attempt": 0, "artifacts": {},
                   "num_splits": None, "branch": None})


def test_listing_runs_steps_and_tasks_of_a_flow(tmp_path):
    """datastore.list_runs/list_steps/list_tasks (the client's Flow/Run/Step iteration) read the
    flow's own runs folder, and another flow's runs never show."""
    ds = FlowDatastore(file_root(tmp_path), "F")
    other = FlowDatastore(file_root(tmp_path), "G")
    _task(ds, "r1", "start", "t-0")
    _task(ds, "r1", "end", "t-1")
    _task(ds, "r2", "start", "t-0")
    _task(other, "r9", "start", "t-0")
    assert sorted(ds.list_runs()) == ["r1", "r2"]
    assert sorted(ds.list_steps("r1")) == ["end", "start"]
    assert sorted(ds.list_tasks("r1", "end")) == ["t-1"]
    assert sorted(other.list_runs()) == ["r9"]


def test_a_bad_run_id_is_named_with_the_allowed_characters():
    import pytest

    from runtime_shim.task import UsageError, parse_args

    with pytest.raises(UsageError, match=r"^bad --run-id 'r/1': use \[A-Za-z0-9\._-\]\+$"):
        parse_args(["--datastore", "file:///tmp/x", "--run-id", "r/1", "--step", "start"])


def test_a_secret_source_of_another_type_is_refused_and_no_type_means_secrets_manager():
    import pytest

    from runtime_shim.secrets import SecretError, _source_id

    assert _source_id({"id": "db"}) == "db"
    assert _source_id({"id": "db", "type": "aws-secrets-manager"}) == "db"
    with pytest.raises(SecretError, match="secret source type 'vault' is not supported"):
        _source_id({"id": "db", "type": "vault"})
