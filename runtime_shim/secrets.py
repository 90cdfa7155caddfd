"""@secrets inside the task: each source is read when the task starts and its keys become
environment variables of the step, as Metaflow's @secrets does. Only the NAMES of the sources
travel in compiled workflows and the code package; values exist only in the running task.

Sources: a string (an AWS Secrets Manager secret id or ARN) or a dict {"id": ..., "type":
"aws-secrets-manager", "role": ...}. The secret must hold a JSON object of string values.
"""
from __future__ import annotations

import json
import os
import re

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretError(Exception):
    pass


def _source_id(source):
    if isinstance(source, str):
        return source
    if isinstance(source, dict) and source.get("id"):
        kind = source.get("type", "aws-secrets-manager")
        if kind != "aws-secrets-manager":
            raise SecretError("secret source type %r is not supported (aws-secrets-manager is)" % kind)
        return source["id"]
    raise SecretError("a secret source is a secret id or {'id': ...}, not %r" % (source,))


class _SecretsManager:
    """GetSecretValue (JSON 1.1) on the standard library, boto3's method name and arguments."""

    def __init__(self, http):
        self.http = http

    def get_secret_value(self, **kwargs):
        return self.http.call_json("/", kwargs, target="secretsmanager.GetSecretValue")


def _client(role=None):
    """Secrets Manager through runtime_shim.awslite (boto3 only for sources it alone reads)."""
    from runtime_shim import awslite

    try:
        http = awslite.client("secretsmanager")
    except awslite.NeedBoto3 as e:
        import_reason = str(e)
        if not role:
            return awslite.boto3_client("secretsmanager", import_reason)
        sts = awslite.boto3_client("sts", import_reason)
        creds = sts.assume_role(RoleArn=role, RoleSessionName="flowc-secrets")["Credentials"]
        return awslite.boto3_client("secretsmanager", import_reason, aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"])
    if role:
        creds = awslite.assume_role(role, "flowc-secrets", http.credentials, http.region)
        http = awslite.Client("secretsmanager", http.region, creds)
    return _SecretsManager(http)


def read_sources(sources):
    """{env name: value} from every source, later sources overriding earlier ones."""
    values = {}
    for source in sources or ():
        secret_id = _source_id(source)
        role = source.get("role") if isinstance(source, dict) else None
        try:
            raw = _client(role).get_secret_value(SecretId=secret_id)
        except Exception as error:  # the service's errors name the secret and the reason
            raise SecretError("cannot read secret %r: %s" % (secret_id, error)) from None
        text = raw.get("SecretString")
        try:
            data = json.loads(text) if text is not None else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise SecretError("secret %r must hold a JSON object of name -> value" % secret_id)
        for name, value in data.items():
            if not _ENV_NAME.match(str(name)):
                raise SecretError("secret %r: key %r is not a valid environment variable name" % (secret_id, name))
            values[str(name)] = str(value)
    return values


def apply(sources):
    """Read every source and export its keys to this process's environment (the step sees them)."""
    os.environ.update(read_sources(sources))
