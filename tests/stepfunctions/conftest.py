"""Step Functions test fixtures: the executing moto double lives in moto_sfn.py."""
import pytest


@pytest.fixture(scope="session")
def sfn_moto():
    from tests.stepfunctions.moto_sfn import MotoSfn

    double = MotoSfn()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture(autouse=True)
def _sfn_job_runner():
    """Other test doubles (the Argo executor's) patch the same process-wide moto Job.run: make
    sure ours runs during these tests, and give theirs back afterwards."""
    from moto.batch import models as batch_models

    from tests.stepfunctions.moto_sfn import install_job_runner

    previous = install_job_runner()
    try:
        yield
    finally:
        batch_models.Job.run = previous
