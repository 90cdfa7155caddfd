"""`arn:aws:states:::eks:runJob.sync` for moto's Step Functions interpreter, which has no EKS
integration (moto lists "eks" as unsupported and only forwards plain API calls).

What Step Functions does, per its EKS integration docs ("Run a job on Amazon EKS", runJob.sync):
it creates the Kubernetes Job given in `Job` in `Namespace` on the cluster at `Endpoint` (with
`CertificateAuthority`), then polls the Job until it completes or fails; the task's result is the
Job object, whose `status` the state may select. A failed Job fails the task (States.TaskFailed
here, so a state's Retry on States.TaskFailed applies as it does to Batch tasks).

The cluster is whatever answers at `Endpoint`: in tests, the Kubernetes API double
(tests/k8s_double.py) with `run_jobs`, registered as an EKS cluster in moto whose endpoint is the
double's URL (`register_cluster`). So the definition's own `aws-sdk:eks:describeCluster` state
reads the endpoint from moto, and this integration reaches the double through it.
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any

_INSTALLED: dict[str, Any] = {}


def register_cluster(aws, name: str, endpoint: str) -> None:
    """An EKS cluster in moto whose API endpoint is `endpoint` (the Kubernetes double)."""
    from moto.eks.models import eks_backends

    eks = aws.client("eks")
    if name not in eks.list_clusters()["clusters"]:
        eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks",
                           resourcesVpcConfig={"subnetIds": []})
    for account in eks_backends.values():
        for backend in account.values():
            cluster = getattr(backend, "clusters", {}).get(name)
            if cluster is not None:
                cluster.endpoint = endpoint


def _request(method: str, url: str, body: Any = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())


def _finished(job: dict[str, Any]) -> str | None:
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed"):
            return condition["type"]
    if status.get("succeeded"):
        return "Complete"
    if status.get("failed"):
        return "Failed"
    return None


def _plain(value: Any) -> Any:
    """State data is JSON: timestamps in a result become ISO strings, as Step Functions gives them."""
    import datetime

    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        if isinstance(item, datetime.datetime):
            value[key] = item.isoformat()
        else:
            _plain(item)
    return value


def install() -> None:
    """Route the `eks` service of moto's ASL interpreter to a runJob.sync that drives the cluster."""
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
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    class EksRunJob(StateTaskServiceCallback):
        def __init__(self):
            # moto's callback machinery expects a task-token endpoint on every callback service
            # (it interrupts it when the task ends); `.sync` itself only polls, as on AWS.
            super().__init__(supported_integration_patterns={ResourceCondition.Sync,
                                                             ResourceCondition.WaitForTaskToken})

        def _eval_sync(self, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint):
            return super()._eval_sync(env, sync_resolver, timeout_seconds, None, heartbeat_endpoint)

        def _get_supported_parameters(self):
            return {"ClusterName", "CertificateAuthority", "Endpoint", "Namespace", "LogOptions", "Job"}

        def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
            pass     # the Job is a Kubernetes object: its keys stay as written

        def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):
            if self._get_boto_service_action() != "run_job":
                raise ValueError(f"eks:{self.resource.api_action} is not part of this double")
            p = normalised_parameters
            url = f"{p['Endpoint'].rstrip('/')}/apis/batch/v1/namespaces/{p['Namespace']}/jobs"
            created = _request("POST", url, p["Job"])
            env.stack.append({"url": f"{url}/{created['metadata']['name']}"})

        def _build_sync_resolver(self, env, resource_runtime_part, normalised_parameters, state_credentials):
            job_url = env.stack.pop()["url"]

            def resolve():
                job = _request("GET", job_url)
                state = _finished(job)
                if state == "Complete":
                    return job
                if state == "Failed":
                    raise FailureEventException(FailureEvent(
                        env=env, error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(), resourceType=self._get_sfn_resource_type(),
                            error=StatesErrorNameType.StatesTaskFailed.to_name(),
                            cause=json.dumps(job.get("status") or {})))))
                return None

            return resolve

    original = state_task_factory.state_task_service_for

    def service_for(service_name: str):
        return EksRunJob() if service_name == "eks" else original(service_name=service_name)

    state_task_factory.state_task_service_for = service_for
    _INSTALLED["original"] = original
    _sdk_casing()


def _sdk_casing() -> None:
    """The aws-sdk integration as Step Functions documents it: parameters in PascalCase
    (`"Name"` for eks:describeCluster's `name`) and results in PascalCase (`$.Cluster.Endpoint`).
    moto passes parameters to botocore as written and returns botocore's casing; map both ways
    with botocore's own model of the operation."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    from tests.stepfunctions.moto_sfn import _operation

    cls = sdk.StateTaskServiceAwsSdk
    read_bodies = cls._normalise_response

    def _op(self, boto_service_name, service_action_name):
        return _operation(self._get_boto_service_name(boto_service_name),
                          self._get_boto_service_action(service_action_name))

    def normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        op = _op(self, boto_service_name, service_action_name)
        if op is not None and op.input_shape is not None:
            self._to_boto_request(parameters, op.input_shape)

    def normalise_response(self, response, boto_service_name=None, service_action_name=None):
        read_bodies(self, response, boto_service_name, service_action_name)
        op = _op(self, boto_service_name, service_action_name)
        if op is not None and op.output_shape is not None:
            self._from_boto_response(response, op.output_shape)
        _plain(response)

    cls._normalise_parameters = normalise_parameters
    cls._normalise_response = normalise_response
