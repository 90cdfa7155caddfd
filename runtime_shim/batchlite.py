"""AWS Batch on the standard library (runtime_shim.awslite): the four REST-JSON calls that
`runtime_shim batch-submit` makes, with boto3's method names and keyword arguments, so the pod of
a @batch step on Argo needs no boto3.
"""
from __future__ import annotations

from runtime_shim import awslite

_PATHS = {"register_job_definition": "/v1/registerjobdefinition",
          "describe_job_definitions": "/v1/describejobdefinitions",
          "submit_job": "/v1/submitjob",
          "describe_jobs": "/v1/describejobs"}


class Batch:
    def __init__(self, http: awslite.Client):
        self.http = http

    def _call(self, name, kwargs):
        return self.http.call_json(_PATHS[name], kwargs)

    def register_job_definition(self, **kwargs):
        return self._call("register_job_definition", kwargs)

    def describe_job_definitions(self, **kwargs):
        return self._call("describe_job_definitions", kwargs)

    def submit_job(self, **kwargs):
        return self._call("submit_job", kwargs)

    def describe_jobs(self, **kwargs):
        return self._call("describe_jobs", kwargs)


def client():
    """A Batch client for this environment; boto3's when only boto3 can find the credentials."""
    try:
        return Batch(awslite.client("batch"))
    except awslite.NeedBoto3 as e:
        return awslite.boto3_client("batch", str(e))
