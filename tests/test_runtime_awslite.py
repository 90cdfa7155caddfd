"""runtime_shim.awslite and the clients on it (s3lite, batchlite, secrets): every request they SEND
is verified by tests/doubles/sigv4.py, which recomputes the signature from the request as received
with botocore's own signer; the credential chain is run against tests/doubles/credentials.py."""
from __future__ import annotations

import json
import os
import time

import pytest

from runtime_shim import awslite, batchlite, s3lite
from runtime_shim import secrets as rt_secrets
from tests.doubles.credentials import CredentialsDouble
from tests.doubles.sigv4 import Keys, SigV4Double, verify

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
_CHAIN_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
              "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
              "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_PROFILE",
              "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS",
              "AWS_ENDPOINT_URL_BATCH", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "FLOWC_S3_CLIENT")


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No credentials of any source, no ~/.aws, IMDS disabled; region us-east-1."""
    for name in _CHAIN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return monkeypatch


class _Store:
    """A minimal S3 behind the verifying double: PUT stores, GET/HEAD read, list-type=2 lists."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def __call__(self, method, path, headers, body):
        import urllib.parse
        from xml.sax.saxutils import escape

        raw, _, query = path.partition("?")
        key = urllib.parse.unquote(raw)
        if method == "PUT":
            self.objects[key] = body
            return 200, {"ETag": '"x"'}, b""
        if query:
            q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            prefix = key.rstrip("/") + "/" + q.get("prefix", "")
            names = sorted(k[len(key.rstrip("/")) + 1:] for k in self.objects if k.startswith(prefix))
            contents = "".join("<Contents><Key>%s</Key></Contents>" % escape(n) for n in names)
            return 200, {}, ('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s'
                             '<IsTruncated>false</IsTruncated></ListBucketResult>' % contents).encode()
        if key in self.objects:
            return 200, {}, self.objects[key]
        return 404, {}, b"<Error><Code>NoSuchKey</Code><Message>none</Message></Error>"


@pytest.mark.parametrize("key", ["root/Flow/runs/r1/start/t/attempt-0/manifest.json",
                                 "pre fix/data/ab/ü ñ+%&=?.bin", "a/b~c/(x)*!'$@,;:"])
@pytest.mark.parametrize("token", [None, "session/token+="])
def test_s3_requests_as_sent_verify_with_botocore(key, token):
    keys = Keys()
    keys.add(KEY, SECRET, token)
    store = _Store()
    double = SigV4Double(keys, respond=store)
    try:
        client = s3lite.S3Lite("eu-west-1", awslite.Credentials(KEY, SECRET, token), double.endpoint)
        client.put("my-bucket", key, b"payload \x00\xff")
        assert client.head("my-bucket", key)
        assert bytes(client.get("my-bucket", key)) == b"payload \x00\xff"
        assert client.get("my-bucket", key + "-missing") is None
        assert client.list("my-bucket", "pre fix/", delimiter="/")[0] == \
            (["pre fix/data/ab/ü ñ+%&=?.bin"] if key.startswith("pre") else [])
        assert double.rejected == [] and len(double.received) == 5
        import urllib.parse

        assert double.received[0]["path"] == "/my-bucket/" + urllib.parse.quote(key, safe="/~")
        assert double.received[0]["body"] == b"payload \x00\xff"
    finally:
        double.stop()


def test_the_double_refuses_what_aws_refuses():
    """The verifier is not a yes-man: a tampered path, body hash, secret or token is refused."""
    keys = Keys()
    keys.add(KEY, SECRET, "tok")
    client = awslite.Client("s3", "eu-west-1", awslite.Credentials(KEY, SECRET, "tok"), "http://h")
    import hashlib

    body = b"data"
    payload = hashlib.sha256(body).hexdigest()
    path = "/bucket/a%20b"
    headers = awslite.sign("PUT", "h", path, {}, {"x-amz-content-sha256": payload}, payload, "s3",
                           "eu-west-1", client.credentials)
    assert verify("PUT", path, headers, body, keys) is None
    assert verify("PUT", "/bucket/a b", headers, body, keys)[1] == "SignatureDoesNotMatch"   # unquoted path
    assert verify("PUT", path, headers, b"other", keys)[1] == "XAmzContentSHA256Mismatch"
    empty = awslite.sign("PUT", "h", path, {}, {"x-amz-content-sha256": payload},
                         hashlib.sha256(b"").hexdigest(), "s3", "eu-west-1", client.credentials)
    assert verify("PUT", path, empty, body, keys)[1] == "SignatureDoesNotMatch"            # empty payload hash
    wrong = awslite.sign("PUT", "h", path, {}, {"x-amz-content-sha256": payload}, payload, "s3",
                         "eu-west-1", awslite.Credentials(KEY, "not-the-secret", "tok"))
    assert verify("PUT", path, wrong, body, keys)[1] == "SignatureDoesNotMatch"
    other_token = awslite.sign("PUT", "h", path, {}, {"x-amz-content-sha256": payload}, payload, "s3",
                               "eu-west-1", awslite.Credentials(KEY, SECRET, "stolen"))
    assert verify("PUT", path, other_token, body, keys)[1] == "InvalidToken"


def _json_double(answer):
    keys = Keys({KEY: SECRET})
    calls = []

    def respond(method, path, headers, body):
        calls.append((path, {k.lower(): v for k, v in headers.items()}, json.loads(body)))
        return 200, {"Content-Type": "application/json"}, json.dumps(answer(path, json.loads(body))).encode()

    return SigV4Double(keys, respond=respond), calls


def test_batch_calls_are_signed_rest_json(bare_env):
    double, calls = _json_double(lambda path, body: {"jobId": "j-1"} if path.endswith("submitjob")
                                 else {"jobs": [{"status": "SUCCEEDED"}], "jobDefinitions": []})
    try:
        bare_env.setenv("AWS_ACCESS_KEY_ID", KEY)
        bare_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        bare_env.setenv("AWS_ENDPOINT_URL_BATCH", double.endpoint)
        batch = batchlite.client()
        assert batch.submit_job(jobName="n", jobQueue="q", jobDefinition="arn:aws:batch:d/x:1",
                                containerOverrides={"command": ["python", "-c", "ü {{x}}"]})["jobId"] == "j-1"
        assert batch.describe_jobs(jobs=["j-1"])["jobs"][0]["status"] == "SUCCEEDED"
        batch.describe_job_definitions(jobDefinitionName="d", status="ACTIVE")
        batch.register_job_definition(jobDefinitionName="d", type="container", containerProperties={})
        assert double.rejected == []
        assert [c[0] for c in calls] == ["/v1/submitjob", "/v1/describejobs", "/v1/describejobdefinitions",
                                         "/v1/registerjobdefinition"]
        assert calls[0][2]["containerOverrides"]["command"][2] == "ü {{x}}"
        assert "/batch/aws4_request" in calls[0][1]["authorization"]
    finally:
        double.stop()


def test_batch_error_is_raised_with_its_code(bare_env):
    keys = Keys({KEY: SECRET})
    double = SigV4Double(keys, respond=lambda *a: (400, {"x-amzn-ErrorType": "ClientException:http://x"},
                                                  b'{"message": "queue not found"}'))
    try:
        http = awslite.Client("batch", "us-east-1", awslite.Credentials(KEY, SECRET), double.endpoint)
        with pytest.raises(awslite.AWSError) as error:
            batchlite.Batch(http).submit_job(jobName="n", jobQueue="missing", jobDefinition="d")
        assert error.value.response["Error"]["Code"] == "ClientException"
        assert "queue not found" in str(error.value)
    finally:
        double.stop()


def test_secrets_manager_get_secret_value_json11(bare_env):
    double, calls = _json_double(lambda path, body: {"SecretString": json.dumps({"DB_PASSWORD": "s3cr3t"})})
    try:
        bare_env.setenv("AWS_ACCESS_KEY_ID", KEY)
        bare_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        bare_env.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", double.endpoint)
        assert rt_secrets.read_sources(["prod/db"]) == {"DB_PASSWORD": "s3cr3t"}
        path, headers, body = calls[0]
        assert headers["x-amz-target"] == "secretsmanager.GetSecretValue"
        assert headers["content-type"] == "application/x-amz-json-1.1"
        assert body == {"SecretId": "prod/db"} and double.rejected == []
        assert "/secretsmanager/aws4_request" in headers["authorization"]
    finally:
        double.stop()


def test_secret_with_role_assumes_it_through_signed_sts(bare_env):
    keys = Keys({KEY: SECRET})
    issued = {}

    def respond(method, path, headers, body):
        h = {k.lower(): v for k, v in headers.items()}
        if "x-amz-target" not in h:     # STS AssumeRole
            import urllib.parse

            form = dict(urllib.parse.parse_qsl(body.decode()))
            assert form["Action"] == "AssumeRole" and form["RoleArn"] == "arn:aws:iam::1:role/r"
            keys.add("ASIAROLE", "role-secret", "role-token")
            issued["sts"] = h["authorization"]
            return 200, {}, (b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
                             b'<Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>'
                             b'<SessionToken>role-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>'
                             b'</Credentials></AssumeRoleResult></AssumeRoleResponse>')
        issued["sm"] = h["authorization"]
        return 200, {}, json.dumps({"SecretString": '{"A": "1"}'}).encode()

    double = SigV4Double(keys, respond=respond)
    try:
        bare_env.setenv("AWS_ACCESS_KEY_ID", KEY)
        bare_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        bare_env.setenv("AWS_ENDPOINT_URL", double.endpoint)
        assert rt_secrets.read_sources([{"id": "s", "role": "arn:aws:iam::1:role/r"}]) == {"A": "1"}
        assert "/sts/aws4_request" in issued["sts"] and issued["sm"].startswith(
            "AWS4-HMAC-SHA256 Credential=ASIAROLE/")
        assert double.rejected == []
    finally:
        double.stop()


@pytest.mark.parametrize("source", ["container", "pod-identity", "web-identity", "imds"])
def test_credential_chain_sources_against_the_double(bare_env, tmp_path, source):
    keys = Keys()
    creds_double = CredentialsDouble(keys)
    store = _Store()
    s3 = SigV4Double(keys, respond=store)
    try:
        for name, value in creds_double.env(source, str(tmp_path)).items():
            bare_env.setenv(name, value)
        if source == "imds":
            bare_env.delenv("AWS_EC2_METADATA_DISABLED")
        bare_env.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
        client = s3lite.client()
        assert client is not None and client.credentials.source == source.replace("pod-identity", "container")
        client.put("b", "k", b"v")
        assert bytes(client.get("b", "k")) == b"v"
        assert s3.rejected == [] and creds_double.refused == []
        assert creds_double.issued[source] == 1
    finally:
        creds_double.stop()
        s3.stop()


def test_container_credentials_need_the_authorization_token(bare_env, tmp_path):
    creds_double = CredentialsDouble(Keys())
    try:
        bare_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", creds_double.endpoint + "/v1/credentials")
        bare_env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")
        with pytest.raises(OSError):
            awslite.credentials()
        assert creds_double.refused == [("GET", "/v1/credentials")]
    finally:
        creds_double.stop()


def test_relative_uri_goes_to_the_ecs_agent_address(bare_env, monkeypatch):
    seen = []

    def fake_http(method, url, headers=None, body=None, timeout=5.0):
        seen.append((method, url, headers))
        return json.dumps({"AccessKeyId": "A", "SecretAccessKey": "S", "Token": "T",
                           "Expiration": "2099-01-01T00:00:00Z"}).encode()

    monkeypatch.setattr(awslite, "_http", fake_http)
    bare_env.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc-123")
    creds = awslite.credentials()
    assert seen == [("GET", "http://169.254.170.2/v2/credentials/abc-123", {})]
    assert (creds.key, creds.secret, creds.token, creds.source) == ("A", "S", "T", "container")


def test_temporary_credentials_are_refreshed_before_expiry(bare_env, tmp_path, monkeypatch):
    keys = Keys()
    creds_double = CredentialsDouble(keys, lifetime=awslite.REFRESH_MARGIN + 2)
    store = _Store()
    s3 = SigV4Double(keys, respond=store)
    try:
        for name, value in creds_double.env("pod-identity", str(tmp_path)).items():
            bare_env.setenv(name, value)
        bare_env.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
        client = s3lite.client()
        first = client.credentials.key
        client.put("b", "k", b"1")
        assert creds_double.issued["pod-identity"] == 1
        time.sleep(2.2)                       # now inside the refresh margin
        client.put("b", "k", b"2")
        assert creds_double.issued["pod-identity"] == 2 and client.credentials.key != first
        assert s3.received[-1]["headers"]["authorization"].startswith(
            "AWS4-HMAC-SHA256 Credential=%s/" % client.credentials.key)
        assert s3.rejected == []
    finally:
        creds_double.stop()
        s3.stop()


def test_web_identity_refusal_is_a_clear_error(bare_env, tmp_path):
    creds_double = CredentialsDouble(Keys())
    try:
        env = creds_double.env("web-identity", str(tmp_path))
        for name, value in env.items():
            bare_env.setenv(name, value)
        with open(env["AWS_WEB_IDENTITY_TOKEN_FILE"], "w") as handle:
            handle.write("forged")
        with pytest.raises(awslite.NoCredentials, match="InvalidIdentityToken"):
            awslite.credentials()
    finally:
        creds_double.stop()


def test_no_credentials_is_a_clear_error_and_profiles_need_boto3(bare_env, tmp_path, monkeypatch):
    with pytest.raises(awslite.NoCredentials, match="no AWS credentials: tried environment"):
        s3lite.client()
    bare_env.setenv("AWS_PROFILE", "dev")
    assert s3lite.client() is None                     # boto3 is installed here: it reads profiles
    monkeypatch.setattr(s3lite, "_has_boto3", lambda: False)
    with pytest.raises(awslite.NoCredentials, match="needs boto3"):
        s3lite.client()
    bare_env.delenv("AWS_PROFILE")
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = us-east-1\n")
    with pytest.raises(awslite.NoCredentials, match="no AWS credentials"):
        s3lite.client()                                # a region-only config is not a credential source
    (tmp_path / ".aws" / "credentials").write_text("[default]\naws_access_key_id = A\n")
    with pytest.raises(awslite.NoCredentials, match="needs boto3"):
        s3lite.client()


def test_endpoint_overrides_per_service(bare_env):
    bare_env.setenv("AWS_ENDPOINT_URL", "http://general:1")
    bare_env.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm:2/")
    assert awslite.endpoint("secretsmanager", "eu-west-1") == ("http://sm:2", True)
    assert awslite.endpoint("batch", "eu-west-1") == ("http://general:1", True)
    bare_env.delenv("AWS_ENDPOINT_URL")
    assert awslite.endpoint("batch", "eu-west-1") == ("https://batch.eu-west-1.amazonaws.com", False)


def test_runtime_shim_imports_no_botocore():
    import subprocess
    import sys

    from tests.stdlib_python import clean_env, stdlib_python

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import runtime_shim.awslite, runtime_shim.s3lite, runtime_shim.batchlite, runtime_shim.secrets, "
            "runtime_shim.batch_submit, runtime_shim.params, sys; "
            "assert not any(m.startswith(('boto', 'compiler')) for m in sys.modules)")
    env = dict(clean_env(dict(os.environ)), PYTHONPATH=root)
    proc = subprocess.run([stdlib_python(), "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sys.executable != stdlib_python()


def test_multipart_upload_above_the_single_put_limit(moto_server, moto_raw, monkeypatch):
    """Objects above MAX_SINGLE_PUT go up in parts (moto, behind the signature verifier)."""
    import uuid

    import boto3

    monkeypatch.setattr(s3lite, "MAX_SINGLE_PUT", 6 << 20)
    monkeypatch.setattr(s3lite, "PART_SIZE", 5 << 20)
    bucket = "mp-" + uuid.uuid4().hex[:10]
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    keys = Keys({"testing": "testing"})
    double = SigV4Double(keys, upstream=moto_raw)
    try:
        client = s3lite.S3Lite("us-east-1", awslite.Credentials("testing", "testing"), double.endpoint)
        body = os.urandom(11 << 20)
        client.put(bucket, "big/object ü", body)
        assert bytes(client.get(bucket, "big/object ü")) == body
        methods = [(r["method"], r["path"].split("?")[1] if "?" in r["path"] else "") for r in double.received]
        assert methods[0] == ("POST", "uploads=")
        assert [m for m, q in methods if "partNumber=" in q] == ["PUT", "PUT", "PUT"]
        assert methods[-2][0] == "POST" and methods[-2][1].startswith("uploadId=")
        assert double.rejected == []
    finally:
        double.stop()
