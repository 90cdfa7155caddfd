"""Shared helpers for the Step Functions tests: settings, fixed code package for golden files,
asl-validator and botocore validation."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess

from compiler import settings as settings_mod
from compiler.targets.base import CodePackageRef

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN_DIR = os.path.join(ROOT, "golden", "stepfunctions")
SHARED_VALID = os.path.join(ROOT, "tests", "flows", "shared", "valid")
OWN_VALID = os.path.join(ROOT, "tests", "flows", "valid_own")
ASL_VALIDATOR = os.path.join(ROOT, "node_modules", ".bin", "asl-validator")
# A fixed code package for golden files: the real package changes with every runtime edit.
GOLDEN_PACKAGE = CodePackageRef(b"flowc golden code package", "0" * 64)

GOLDEN_FLAGS = {
    "datastore": "s3://flowc-golden/data",
    "batch_queue": "flowc-queue",
    "aws_region": "us-east-1",
    "eks_cluster": "flowc-eks",
    "sfn_role_arn": "arn:aws:iam::123456789012:role/flowc-sfn",
    "batch_job_role_arn": "arn:aws:iam::123456789012:role/flowc-batch-job",
    "branch": "golden",
}


def make_settings(**flags):
    merged = dict(GOLDEN_FLAGS)
    merged.update(flags)
    return settings_mod.resolve({k: v for k, v in merged.items() if v is not None}, flow_dir=ROOT, environ={})


def shared_flows() -> list[str]:
    return sorted(glob.glob(os.path.join(SHARED_VALID, "*.py")))


# Valid flows Step Functions refuses on purpose: @parallel (FC413, tests/test_decorator_fates.py)
SFN_REFUSED = {"parallel_flow.py"}


def own_flows() -> list[str]:
    return sorted(p for p in glob.glob(os.path.join(OWN_VALID, "*.py")) if os.path.basename(p) not in SFN_REFUSED)


def emit(path: str, settings=None, package: CodePackageRef = GOLDEN_PACKAGE):
    """plan -> check -> emit with a fixed package. Returns (files, diagnostics)."""
    from compiler.runtime_spec import plan_for_file
    from compiler.targets.stepfunctions import StepFunctionsTarget

    settings = settings or make_settings()
    plan, diagnostics = plan_for_file(path, None, settings)
    assert plan is not None, [d.message for d in diagnostics]
    target = StepFunctionsTarget(settings)
    diagnostics = list(diagnostics) + target.check(plan)
    if any(d.is_error for d in diagnostics):
        return [], diagnostics
    return target.emit(plan, package), diagnostics


def asl_validate(paths: list[str]) -> None:
    """Run asl-validator (npm, from the repo's node_modules) on every path; assert all pass."""
    if not os.path.exists(ASL_VALIDATOR):
        raise AssertionError(
            "asl-validator is not installed: run `npm ci` in the repository root (package.json pins it); "
            f"expected {ASL_VALIDATOR}")
    assert shutil.which("node"), "node is not on PATH (needed by asl-validator)"
    for chunk in range(0, len(paths), 40):
        args = [ASL_VALIDATOR]
        for p in paths[chunk:chunk + 40]:
            args += ["--json-path", p]
        proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, f"asl-validator failed:\n{proc.stdout}\n{proc.stderr}"


def validate_request(service: str, operation: str, request: dict) -> None:
    """botocore's own parameter validation of an API request against the service model."""
    import botocore.session
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model(service)
    validate_parameters(request, model.operation_model(operation).input_shape)


def golden_path(name: str) -> str:
    return os.path.join(GOLDEN_DIR, name)
