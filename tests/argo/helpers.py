"""Compile flows for the Argo tests: fixed settings (no environment, no pyproject), and a fixed
code package for golden files (the real package changes with every runtime edit)."""
from __future__ import annotations

import glob
import os

import yaml

from compiler import settings as S
from compiler.targets import serialize
from compiler.targets.argo import ArgoTarget
from compiler.targets.base import CodePackageRef

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_VALID = os.path.join(ROOT, "tests", "flows", "shared", "valid")
OWN_VALID = os.path.join(ROOT, "tests", "flows", "valid_own")
GOLDEN_DIR = os.path.join(ROOT, "golden", "argo")
GOLDEN_PACKAGE = CodePackageRef(b"flowc golden code package", "0" * 64)
GOLDEN_FLAGS = {"datastore": "s3://flowc-golden/data", "branch": "golden", "batch_queue": "default-queue"}


def settings(**flags):
    return S.resolve({**GOLDEN_FLAGS, **flags}, flow_dir="/", environ={})


def shared_flows() -> list[str]:
    return sorted(glob.glob(os.path.join(SHARED_VALID, "*.py")))


def own_flows() -> list[str]:
    return sorted(glob.glob(os.path.join(OWN_VALID, "*.py")))


def plan_of(path: str, st=None):
    from compiler.runtime_spec import plan_for_file

    plan, diagnostics = plan_for_file(path, None, st or settings())
    assert plan is not None, [(d.code, d.message) for d in diagnostics]
    return plan


def golden_text(path: str, st=None) -> str:
    target = ArgoTarget()
    plan = plan_of(path, st)
    errors = [d for d in target.check(plan) if d.is_error]
    assert not errors, [(d.code, d.message) for d in errors]
    return serialize.to_yaml_stream(target.documents(plan, GOLDEN_PACKAGE))


def documents(path: str, st=None) -> list[dict]:
    return list(yaml.safe_load_all(golden_text(path, st)))
