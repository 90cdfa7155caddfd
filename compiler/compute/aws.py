"""boto3 for deploy and `flowc run`: clients, the code-package upload, job-definition registration.
boto3 is imported only when a client is made."""
from __future__ import annotations

from typing import Any


class AwsError(RuntimeError):
    """A request flowc cannot make (e.g. a datastore that is not S3)."""


def session(settings: Any = None):
    import boto3

    return boto3.session.Session(region_name=getattr(settings, "aws_region", None) or None)


def split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise AwsError(f"the datastore must be s3://bucket/prefix, not {url!r} (set FLOWC_DATASTORE)")
    bucket, _, key = url[len("s3://"):].partition("/")
    return bucket, key


def upload_code_package(s3, url: str, data: bytes) -> str:
    """Put the package at `url` unless it is there (content-addressed: same key, same bytes)."""
    bucket, key = split_s3(url)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return "unchanged"
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return "uploaded"


def _covers(existing: Any, wanted: Any) -> bool:
    """Whether `existing` (as AWS describes it, with its own defaults filled in) holds every value
    `wanted` (our request) sets: dicts by key, lists element by element, scalars as text."""
    if isinstance(wanted, dict):
        return isinstance(existing, dict) and all(_covers(existing.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(existing, list) and len(existing) == len(wanted) and \
            all(_covers(e, w) for e, w in zip(existing, wanted))
    return existing == wanted or str(existing) == str(wanted)


def same_job_definition(existing: dict[str, Any], request: dict[str, Any]) -> bool:
    """An ACTIVE revision equals the request when it holds every field the request sets."""
    return all(_covers(existing.get(k), v) for k, v in request.items() if k != "jobDefinitionName")


def register_job_definition(batch, request: dict[str, Any]) -> str:
    name = request["jobDefinitionName"]
    found = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE").get("jobDefinitions", [])
    if any(same_job_definition(d, request) for d in found):
        return "unchanged"
    response = batch.register_job_definition(**request)
    return f"registered revision {response.get('revision')}"
