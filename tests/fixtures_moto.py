"""A moto S3 server over real HTTP for the datastore tests (session-scoped).

`moto_server` yields the endpoint: a SigV4-verifying double (tests/doubles/sigv4.py) in front of
the moto server, so every request, boto3's and the runtime's, is signature-checked from what is
sent; it sets AWS_ENDPOINT_URL and dummy credentials in os.environ for the session (subprocess
tasks inherit them).
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

    from tests.doubles.sigv4 import Keys, SigV4Double

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # every request is signature-checked from what arrives, as AWS does (moto checks nothing)
    # (the session token is not pinned: tests may run tasks with or without one)
    keys = Keys({_ENV["AWS_ACCESS_KEY_ID"]: _ENV["AWS_SECRET_ACCESS_KEY"]})
    verifier = SigV4Double(keys, upstream="http://%s:%d" % (host, port))
    endpoint = verifier.endpoint
    _RAW["url"] = "http://%s:%d" % (host, port)
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
        verifier.stop()
        server.stop()


_RAW: dict = {}


@pytest.fixture
def moto_raw(moto_server):
    """The moto server itself, behind no verifier: for tests that put their own double in front."""
    return _RAW["url"]


@pytest.fixture
def s3_root(moto_server):
    """A fresh bucket on the moto server; returns the datastore root s3://bucket/prefix."""
    import boto3

    bucket = "flowc-test-%s" % uuid.uuid4().hex[:12]
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    return "s3://%s/root" % bucket
