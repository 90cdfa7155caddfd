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
