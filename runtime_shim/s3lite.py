"""S3 on the standard library (runtime_shim.awslite: SigV4, credentials, retries) for the datastore.

Importing boto3 and building a client costs ~0.4 s of CPU in every task; this costs ~0.01 s. It
covers what the datastore does: HEAD, GET, PUT (one request up to 5 GiB, else multipart) and
ListObjectsV2. Path-style addressing when an endpoint is overridden (AWS_ENDPOINT_URL_S3 or
AWS_ENDPOINT_URL: moto, MinIO), virtual-hosted otherwise.

`client()` returns None only when boto3 must be used: FLOWC_S3_CLIENT=boto3, or a credential
source only boto3 reads (a profile, a shared credentials file) is configured and boto3 is
installed. With no credentials at all it raises awslite.NoCredentials (a clear error, not a
silent switch to a boto3 the container may not have).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from runtime_shim import awslite
from runtime_shim.awslite import AWSError

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
MAX_SINGLE_PUT = 5 << 30
PART_SIZE = 64 << 20


class S3Error(AWSError):
    pass


def _has_boto3():
    import importlib.util

    return importlib.util.find_spec("boto3") is not None


def client():
    """An S3Lite for this environment, or None when boto3 must be used (module docstring)."""
    if os.environ.get("FLOWC_S3_CLIENT", "").lower() == "boto3":
        return None
    region = awslite.region()
    if not region:
        if _has_boto3():
            return None   # boto3 finds the bucket's region itself
        region = "us-east-1"
    try:
        creds = awslite.credentials()
    except awslite.NeedBoto3:
        if _has_boto3():
            return None
        raise awslite.NoCredentials("an AWS profile or shared credentials file is configured, which "
                                    "needs boto3; this container has none (use environment, web "
                                    "identity, container or instance credentials)") from None
    endpoint, override = awslite.endpoint("s3", region)
    return S3Lite(region, creds, endpoint if override else None)


def _error(status, data, response=None):
    try:
        root = ET.fromstring(bytes(data))
        return root.findtext("Code") or str(status), root.findtext("Message") or ""
    except ET.ParseError:
        return str(status), bytes(data[:200]).decode("utf-8", "replace")


class S3Lite:
    def __init__(self, region, credentials, endpoint=None):
        self.region = region
        self.credentials = credentials
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self._http = awslite.Client("s3", region, credentials, endpoint or "https://s3.amazonaws.com")

    # -- the calls the datastore makes ------------------------------------------------------------

    def head(self, bucket, key):
        status, _, _ = self._request("HEAD", bucket, key)
        return status == 200

    def get(self, bucket, key):
        """The object's bytes as a bytearray, or None when it does not exist."""
        status, _, body = self._request("GET", bucket, key, missing_ok=True)
        return None if status == 404 else body

    def put(self, bucket, key, body):
        if len(body) <= MAX_SINGLE_PUT:
            self._request("PUT", bucket, key, body=body)
            return
        _, _, data = self._request("POST", bucket, key, query={"uploads": ""})
        upload = ET.fromstring(bytes(data)).findtext(_NS + "UploadId")
        view, etags = memoryview(body), []
        for number, start in enumerate(range(0, len(body), PART_SIZE), 1):
            _, headers, _ = self._request("PUT", bucket, key, body=bytes(view[start:start + PART_SIZE]),
                                          query={"partNumber": str(number), "uploadId": upload})
            etags.append({k.lower(): v for k, v in headers.items()}["etag"])
        parts = "".join("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e)
                        for n, e in enumerate(etags, 1))
        self._request("POST", bucket, key, query={"uploadId": upload},
                      body=("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % parts).encode())

    def list(self, bucket, prefix, delimiter=None):
        """(keys, common prefixes) under prefix, all pages."""
        keys, prefixes, token = [], [], None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if delimiter:
                query["delimiter"] = delimiter
            if token:
                query["continuation-token"] = token
            _, _, body = self._request("GET", bucket, "", query=query)
            root = ET.fromstring(bytes(body))
            keys += [c.findtext(_NS + "Key") for c in root.findall(_NS + "Contents")]
            prefixes += [c.findtext(_NS + "Prefix") for c in root.findall(_NS + "CommonPrefixes")]
            if root.findtext(_NS + "IsTruncated") != "true":
                return keys, prefixes
            token = root.findtext(_NS + "NextContinuationToken")

    # -- addressing -------------------------------------------------------------------------------

    def _target(self, bucket, key):
        """(scheme, host, path as sent). The key is URI-encoded once; S3 signs that same path."""
        import urllib.parse

        quoted = urllib.parse.quote(key, safe="/~")
        if self.endpoint:  # path style, as S3-compatible stores and moto expect
            parts = urllib.parse.urlsplit(self.endpoint)
            base = parts.path.rstrip("/")
            return parts.scheme, parts.netloc, "%s/%s/%s" % (base, bucket, quoted) if key else "%s/%s" % (base, bucket)
        if "." in bucket:
            return "https", "s3.%s.amazonaws.com" % self.region, "/%s/%s" % (bucket, quoted)
        return "https", "%s.s3.%s.amazonaws.com" % (bucket, self.region), "/" + quoted

    def _request(self, method, bucket, key, body=b"", query=None, missing_ok=False):
        scheme, netloc, path = self._target(bucket, key)

        def ok(status, code):
            return (status == 404 and method == "HEAD") or (status == 404 and missing_ok and code != "NoSuchBucket")

        try:
            return self._http.request(method, scheme, netloc, path, query=query, body=bytes(body) if
                                      not isinstance(body, (bytes, bytearray)) else body, error=_error, ok=ok)
        except AWSError as e:
            error = e.response["Error"]
            raise S3Error(e.status, error["Code"], error["Message"], "%s/%s" % (bucket, key)) from None
