"""The container bootstrap (templates/bootstrap.py.j2) on a stdlib-only Python, as in `python:3.11`:
it fetches the code package from S3 with its own SigV4 GET (verified by tests/doubles/sigv4.py in
front of the moto server) with each credential source a container has, caches it in
FLOWC_CODE_CACHE, checks its sha256 and execs runtime_shim from it."""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import uuid
import zipfile

import pytest

from tests.doubles.credentials import CredentialsDouble
from tests.doubles.sigv4 import Keys, SigV4Double
from tests.stdlib_python import clean_env, stdlib_python, task_sandbox

COMMAND = ["-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])']
MAIN = b"import sys, boto3_absent_check\nprint('RUNTIME', sys.argv[1:])\n"


def bootstrap_source() -> str:
    try:
        from compiler.compute.container import bootstrap_source as load
    except ImportError:
        from compiler.targets.stepfunctions.batch import bootstrap_source as load
    return load()


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("runtime_shim/__init__.py", b"")
        z.writestr("runtime_shim/__main__.py", MAIN)
        z.writestr("boto3_absent_check.py",
                   b"import importlib.util\nassert importlib.util.find_spec('boto3') is None\n")
    return buffer.getvalue()


@pytest.fixture
def s3_package(moto_server):
    import boto3

    bucket = "flowc-boot-%s" % uuid.uuid4().hex[:10]
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=bucket)
    data = _package()
    sha = hashlib.sha256(data).hexdigest()
    key = "root/My Flow/code/%s.zip" % sha
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return "s3://%s/%s" % (bucket, key), sha


def _run(env_extra, url, sha, tmp_path, name="task"):
    box = task_sandbox(tmp_path, name)
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", **box.env,
           "FLOWC_BOOTSTRAP": bootstrap_source(), "FLOWC_CODE_URL": url, "FLOWC_CODE_SHA256": sha,
           "AWS_EC2_METADATA_DISABLED": "true", **env_extra}
    proc = subprocess.run([stdlib_python(), *COMMAND, "task", "--step", "start"], env=clean_env(env),
                          cwd=box.cwd, capture_output=True, text=True, timeout=60)
    return proc, box


@pytest.mark.parametrize("source", ["static", "container", "pod-identity", "web-identity", "imds"])
def test_fetches_with_every_container_credential_source(source, s3_package, moto_raw, tmp_path):
    url, sha = s3_package
    keys = Keys({"testing": "testing"})
    creds = CredentialsDouble(keys)
    s3 = SigV4Double(keys, upstream=moto_raw)
    try:
        extra = {"AWS_ENDPOINT_URL_S3": s3.endpoint}
        if source == "static":
            extra.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        else:
            extra.update(creds.env(source, str(tmp_path)))
            if source == "imds":
                extra["AWS_EC2_METADATA_DISABLED"] = "false"
        proc, box = _run(extra, url, sha, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "RUNTIME ['task', '--step', 'start']" in proc.stdout
        assert os.listdir(box.tmpdir) == ["flowc-code-%s.zip" % sha]       # cached in FLOWC_CODE_CACHE
        assert s3.rejected == [] and [r["method"] for r in s3.received] == ["GET"]
        assert s3.received[0]["path"].endswith("/root/My%%20Flow/code/%s.zip" % sha)
        if source != "static":
            assert creds.issued[source] == 1 and creds.refused == []
    finally:
        creds.stop()
        s3.stop()


def test_a_bad_signature_or_hash_exits_3(s3_package, moto_server, moto_raw, tmp_path):
    url, sha = s3_package
    s3 = SigV4Double(Keys({"testing": "not-what-the-task-has"}), upstream=moto_raw)
    try:
        proc, _ = _run({"AWS_ENDPOINT_URL_S3": s3.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}, url, sha, tmp_path)
        assert proc.returncode == 3 and "cannot fetch" in proc.stderr and "403" in proc.stderr
        assert s3.rejected[0]["problem"][1] == "SignatureDoesNotMatch"
    finally:
        s3.stop()
    proc, box = _run({"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
                      "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}, url, "0" * 64, tmp_path)
    assert proc.returncode == 3 and "does not match sha256" in proc.stderr
    assert os.listdir(box.tmpdir) == []


def test_no_credentials_is_a_clear_error(s3_package, moto_server, tmp_path):
    url, sha = s3_package
    creds = CredentialsDouble(Keys())
    try:   # IMDS answers, but no role token: the PUT is refused, nothing else is tried
        proc, _ = _run({"AWS_ENDPOINT_URL": moto_server, "AWS_EC2_METADATA_SERVICE_ENDPOINT":
                        creds.endpoint + "/nothing-here"}, url, sha, tmp_path)
    finally:
        creds.stop()
    assert proc.returncode == 3 and "flowc bootstrap: cannot fetch %s" % url in proc.stderr


def test_a_profile_needs_boto3_which_the_default_image_lacks(s3_package, moto_server, tmp_path):
    """As runtime_shim.awslite: a configured ~/.aws file is boto3's to read; without boto3, a clear exit 3."""
    url, sha = s3_package
    box = task_sandbox(tmp_path, "profile")
    os.makedirs(os.path.join(box.cwd, ".aws"))
    with open(os.path.join(box.cwd, ".aws", "credentials"), "w") as handle:
        handle.write("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", **box.env,
           "FLOWC_BOOTSTRAP": bootstrap_source(), "FLOWC_CODE_URL": url, "FLOWC_CODE_SHA256": sha,
           "AWS_ENDPOINT_URL": moto_server}
    proc = subprocess.run([stdlib_python(), *COMMAND, "task"], env=clean_env(env), cwd=box.cwd,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and "No module named 'boto3'" in proc.stderr


def test_bootstrap_size_budget():
    """It is an env var of every Batch job definition and of Argo's templateDefaults."""
    source = bootstrap_source()
    assert len(source.encode()) <= 4096 and len(source.splitlines()) <= 50
