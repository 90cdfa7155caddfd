"""Names and literals shared by the state builders (asl.py, eks.py): service integration ARNs,
helper-state suffixes and intrinsic-function literals. Imports nothing of this target."""
from __future__ import annotations

import re
from typing import Iterable

from compiler.compute.container import Expr
from compiler.ir import FlowPlan

BATCH_SUBMIT = "arn:aws:states:::batch:submitJob.sync"
EKS_RUN = "arn:aws:states:::eks:runJob.sync"
EKS_DESCRIBE = "arn:aws:states:::aws-sdk:eks:describeCluster"
S3_GET = "arn:aws:states:::aws-sdk:s3:getObject"
S3_ITEMS = "arn:aws:states:::s3:getObject"
S3_RESULTS = "arn:aws:states:::s3:putObject"

# Step Functions state names may not hold these; step names are Python identifiers, helper
# states add a suffix after '.'.
SUFFIX_FOREACH = ".foreach"
SUFFIX_SPLIT = ".split"
SUFFIX_READ = ".read"
SUFFIX_CHOOSE = ".choose"
SUFFIX_LOOP = ".loop"
SUFFIX_CLUSTER = ".cluster"


def esc(text: str) -> str:
    """A literal for an intrinsic function argument: ', {, }, \\ escaped with a backslash."""
    out = []
    for ch in text:
        if ch in "'{}\\":
            out.append("\\")
        out.append(ch)
    return "'" + "".join(out) + "'"


def array(argv: Iterable[str]) -> str:
    """`States.Array(...)` of an argv: literals escaped, `Expr` entries (paths, intrinsics) as they are."""
    return "States.Array(" + ", ".join(a if isinstance(a, Expr) else esc(a) for a in argv) + ")"


def state_machine_name(plan: FlowPlan) -> str:
    """Flow name, or project.branch.Flow under @project (Metaflow's naming). [A-Za-z0-9._-]."""
    if plan.project:
        raw = f"{plan.project}.{plan.project_branch}.{plan.flow_name}"
    else:
        raw = plan.flow_name
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)
