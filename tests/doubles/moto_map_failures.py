"""Distributed Map failure thresholds for moto's ASL interpreter.

Step Functions fails a Map Run whose failed (or timed-out) items exceed its tolerated failure
threshold, `ToleratedFailureCount` / `ToleratedFailurePercentage`, both 0 by default, with
`States.ExceedToleratedFailureThreshold` ("Tolerated failure threshold" in the Distributed Map
docs): with the defaults, one failed item fails the Map state and the execution. moto counts
failed items but never compares them with the threshold, so a foreach whose body fails went on to
its join: looser than the cloud. This restores the rule. (moto keeps no record of which threshold a
definition set, both default to 0; flowc sets neither, so the Map fails on its first failed item.)
"""
from __future__ import annotations

_INSTALLED: dict[str, object] = {}


def install() -> None:
    if _INSTALLED:
        return
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as dic,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as diw,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

    worker = diw.DistributedItemProcessorWorker
    eval_job = worker._eval_job

    def _eval_job(self, env, job):
        # keep each failed item's own error: the Map's failure names it (moto logs it at DEBUG only)
        try:
            eval_job(self, env, job)
        finally:
            state = env.program_state()
            if isinstance(state, ProgramError):
                errors = self._map_run_record.__dict__.setdefault("flowc_item_errors", [])
                errors.append("item %s: %s" % (job.job_index, dict(state.error or {})))

    worker._eval_job = _eval_job
    cls = dic.DistributedIterationComponent
    original = cls._map_run

    def _map_run(self, env, eval_input):
        original(self, env, eval_input)
        record = eval_input.map_run_record
        failed = record.item_counter.failed.get() + record.item_counter.timed_out.get()
        total = max(1, record.item_counter.total.get())
        if failed > eval_input.tolerated_failure_count and \
                100.0 * failed / total > eval_input.tolerated_failure_percentage:
            error = StatesErrorNameType.StatesExceedToleratedFailureThreshold
            cause = "The specified tolerated failure threshold was exceeded"
            raise FailureEventException(FailureEvent(
                env=env, error_name=StatesErrorName(typ=error), event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                    error=error.to_name(), cause=f"{cause}: {failed} of {total} items failed; "
                                                 + "; ".join(record.__dict__.get("flowc_item_errors", [])[:3])))))

    cls._map_run = _map_run
    _INSTALLED["original"] = original
    _retry_server_errors()


def _retry_server_errors() -> None:
    """moto's interpreter calls the moto server with no retries at all; on a loaded 2-core machine
    its threaded server now and then answers a 500 (a race inside moto), which failed the item
    with `States.Runtime: KeyError('RequestId')` (moto's error path expects AWS's RequestId). The
    AWS services behind Step Functions' integrations are called with the SDK's retries, so the
    calls for Batch and the aws-sdk integration get botocore's standard retry of 5xx answers."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_batch as batch,
    )

    for module in (batch, sdk):
        make = module.boto_client_for

        def with_retries(*args, _make=make, **kwargs):
            return _retrying(_make(*args, **kwargs))

        module.boto_client_for = with_retries


def _retrying(client):
    """The same client with botocore's standard retries for 5xx answers (and nothing else)."""
    import boto3
    from botocore.config import Config

    meta = client.meta
    config = meta.config.merge(Config(retries={"mode": "standard", "total_max_attempts": 4}))
    return boto3.client(meta.service_model.service_name, region_name=meta.region_name,
                        endpoint_url=meta.endpoint_url, config=config,
                        aws_access_key_id="ak", aws_secret_access_key="sk")
