"""A failed Parallel branch's error, as Step Functions propagates it, for moto's ASL interpreter.

When a branch fails, Step Functions fails the Parallel state with that branch's error and cause
(the Parallel docs: "If any branch fails ... the entire Parallel state fails"), whatever the
error's name, so a `States.TaskFailed` from a Batch job reaches the Parallel's Retry and Catch as
`States.TaskFailed`. moto 5.2.5 re-raises it as a custom error name, whose constructor refuses the
`States.` prefix: the interpreter raises ValueError and the execution ends without running the
Catch. This keeps the branch's error name as it is (only in the Parallel's propagation).
"""
from __future__ import annotations

_INSTALLED: list[bool] = []


def install() -> None:
    if _INSTALLED:
        return
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    class BranchErrorName(ErrorName):
        """Any error name a branch ended with, States.* included."""

    branches_decl.CustomErrorName = BranchErrorName
    _INSTALLED.append(True)
