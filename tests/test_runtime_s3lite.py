"""runtime_shim.s3lite, the stdlib S3 client on the task's hot path: its SigV4 signatures equal
botocore's own signer's for the same request, and it reads, writes, lists and retries against a
moto server on 127.0.0.1 exactly as the boto3 path does."""
import re

import pytest

from runtime_shim import s3lite


class _Fixed:
    def __init__(self, token=None):
        self.key, self.secret, self.token = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token

    def current(self):
        return self


@pytest.mark.parametrize("method,key,query,token", [
    ("GET", "root/Flow/runs/r1/start/t/attempt-0/manifest.json", {}, None),
    ("PUT", "pre fix/data/ab/ü ñ+%&=?.bin", {}, "session/token+="),
    ("HEAD", "a/b~c", {}, None),
    ("GET", "", {"list-type": "2", "prefix": "pre fix/runs/", "delimiter": "/",
                 "continuation-token": "1/2+3=="}, "tok"),
])
@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:5000"])
def test_signature_equals_botocores(method, key, query, token, endpoint):
    import hashlib
    import urllib.parse

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    client = s3lite.S3Lite("eu-west-1", _Fixed(token), endpoint)
    scheme, netloc, path = client._target("my-bucket", key)
    body = b"payload" if method == "PUT" else b""
    payload = hashlib.sha256(body).hexdigest()
    ours = client._headers(method, netloc, path, query, payload)

    url = f"{scheme}://{netloc}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote)
    request = AWSRequest(method=method, url=url, data=body, headers={
        "x-amz-date": ours["x-amz-date"], "x-amz-content-sha256": payload,
        **({"x-amz-security-token": token} if token else {})})
    request.context["timestamp"] = ours["x-amz-date"]
    auth = S3SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
                       "s3", "eu-west-1")
    canonical = auth.canonical_request(request)
    theirs = auth.signature(auth.string_to_sign(request, canonical), request)
    assert re.search(r"Signature=([0-9a-f]+)", ours["authorization"]).group(1) == theirs


def test_no_region_or_credentials_means_boto3(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert s3lite.client() is None
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    assert s3lite.client() is None
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    assert s3lite.client() is not None
    monkeypatch.setenv("FLOWC_S3_CLIENT", "boto3")
    assert s3lite.client() is None


def test_reads_writes_lists_against_moto(s3_root, moto_server):
    import boto3

    from runtime_shim.datastore import storage_for

    store = storage_for(s3_root + "/with space")
    assert store.lite is not None                     # the test env has keys and a region
    store.write("a/b c/ü.txt", [b"hello", memoryview(b" world")])
    store.write("a/empty", [b""])
    assert store.exists("a/b c/ü.txt") and not store.exists("a/missing")
    assert bytes(store.read("a/b c/ü.txt")) == b"hello world" and store.read("a/missing") is None
    assert bytes(store.read("a/empty")) == b""
    assert store.list("a") == ["b c", "empty"]
    assert store.list_recursive("a") == ["b c/ü.txt", "empty"]
    bucket, _, prefix = s3_root[5:].partition("/")
    got = boto3.client("s3", endpoint_url=moto_server).get_object(Bucket=bucket, Key=prefix + "/with space/a/b c/ü.txt")
    assert got["Body"].read() == b"hello world"          # what boto3 sees is what s3lite wrote
    for i in range(1003):                                 # past one ListObjectsV2 page
        store.lite.put(bucket, f"{prefix}/with space/many/{i:05d}", b"x")
    assert len(store.list_recursive("many")) == 1003 and len(store.list("many")) == 1003
    with pytest.raises(s3lite.S3Error) as error:
        store.lite.get("no-such-bucket-here", "k")
    assert error.value.response["Error"]["Code"] == "NoSuchBucket"
