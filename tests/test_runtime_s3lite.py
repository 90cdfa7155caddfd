"""runtime_shim.s3lite, the stdlib S3 client on the task's hot path (its signatures are verified
from what it sends in tests/test_runtime_awslite.py): it reads, writes, lists and retries against a
moto server on 127.0.0.1 exactly as the boto3 path does."""
import pytest

from runtime_shim import s3lite


def test_no_region_uses_boto3_when_installed(monkeypatch):
    """Without a region boto3 (installed here) finds the bucket's region itself; FLOWC_S3_CLIENT=boto3 forces it."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert s3lite.client() is None
    monkeypatch.setenv("AWS_REGION", "us-east-1")
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
