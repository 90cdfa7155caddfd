"""A moto S3 server over real HTTP for the datastore tests (session-scoped).

`moto_s3` yields a dict with the endpoint and a fresh bucket name maker; it sets AWS_ENDPOINT_URL
and dummy credentials in os.environ for the session (subprocess tasks inherit them).
"""
from __future__ import annotations

import os
import uuid

import pytest

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = "http://%s:%d" % (host, port)
    saved = {k: os.environ.get(k) for k in list(_ENV) + ["AWS_ENDPOINT_URL"]}
    os.environ.update(_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield endpoint
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


@pytest.fixture
def s3_root(moto_server):
    """A fresh bucket on the moto server; returns the datastore root s3://bucket/prefix."""
    import boto3

    bucket = "flowc-test-%s" % uuid.uuid4().hex[:12]
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    return "s3://%s/root" % bucket
