"""No traceback from any command: an exception that reaches the CLI becomes one line naming what
is wrong and the setting or command that fixes it, exit 1 (2 for usage errors). A failure flowc
cannot explain is a bug: exit 70 with the same one line. FLOWC_DEBUG=1 keeps the traceback.

The exception classes of boto3 and kubernetes are recognised by name and module, so this module
imports neither (`flowc check` stays fast).
"""
from __future__ import annotations

import errno
import os
import sys
from contextlib import contextmanager
from typing import Iterator

import click

EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 70

AWS_CREDENTIALS_FIX = ("set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), "
                       "or run `aws configure` / `aws sso login`")
AWS_REGION_FIX = "pass --aws-region, set FLOWC_AWS_REGION or AWS_DEFAULT_REGION, or set a region in ~/.aws/config"
DATASTORE_FIX = "choose a writable datastore with --datastore or FLOWC_DATASTORE"
KUBE_FIX = "check KUBECONFIG (or ~/.kube/config) and its current context: `kubectl cluster-info` must work"


def _mro_names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def _module(error: BaseException) -> str:
    return type(error).__module__ or ""


def aws_error_code(error: BaseException) -> str | None:
    """The error code of a botocore ClientError (e.g. ExecutionDoesNotExist), else None."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def is_not_found(error: BaseException) -> bool:
    """A cloud or cluster API said the named thing does not exist."""
    code = aws_error_code(error)
    if code is not None:
        return code.endswith(("DoesNotExist", "NotFound", "NotFoundException")) or code in ("NoSuchKey", "404")
    return "ApiException" in _mro_names(error) and getattr(error, "status", None) == 404


def _oserror(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC or error.errno == getattr(errno, "EDQUOT", -1):
        return f"no space left writing{where} ({reason}): free some space, or {DATASTORE_FIX}"
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write{where}: {reason}; {DATASTORE_FIX}"
    if error.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENOENT):
        return f"cannot use{where}: {reason}; check the path (for the datastore: --datastore or FLOWC_DATASTORE)"
    return f"{reason}{':' + where if where else ''}"


def _kubernetes(error: BaseException, names: set[str]) -> str | None:
    if "KubeConfigError" in names:
        return f"{error}; {KUBE_FIX}"
    if "ConfigException" in names and "kubernetes" in _module(error):
        return f"invalid Kubernetes configuration: {error}; {KUBE_FIX}"
    if "ApiException" in names:
        status, reason = getattr(error, "status", None), getattr(error, "reason", None) or ""
        if status in (401, 403):
            return (f"the Kubernetes API refused the request ({status} {reason}): the kubeconfig's user "
                    "lacks the permission; check its credentials and RBAC (kubectl auth can-i)")
        if status == 404:
            return f"not found on the Kubernetes API server ({reason}); check the namespace (--k8s-namespace) and names"
        if status == 0 or status is None:   # the client could not connect at all
            return f"cannot reach the Kubernetes API server: {reason or error}; {KUBE_FIX}"
        return f"the Kubernetes API answered {status} {reason}"
    if names & {"MaxRetryError", "NewConnectionError", "ProtocolError"} and "urllib3" in _module(error):
        return f"cannot reach the Kubernetes API server: {getattr(error, 'reason', None) or error}; {KUBE_FIX}"
    return None


def _aws(error: BaseException, names: set[str]) -> str | None:
    if "NoRegionError" in names:
        return f"no AWS region is set: {AWS_REGION_FIX}"
    if names & {"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"}:
        return f"no usable AWS credentials ({error}): {AWS_CREDENTIALS_FIX}"
    if names & {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ReadTimeoutError",
                "ProxyConnectionError"}:
        endpoint = getattr(error, "kwargs", {}).get("endpoint_url") or str(error)
        return (f"cannot reach the AWS endpoint ({endpoint}): check the network, AWS_ENDPOINT_URL / "
                "--s3-endpoint and the region (--aws-region)")
    code = aws_error_code(error)
    if code is None:
        return None
    message = (getattr(error, "response", {}).get("Error") or {}).get("Message") or ""
    operation = getattr(error, "operation_name", "") or "the request"
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId", "ExpiredToken",
                "ExpiredTokenException", "SignatureDoesNotMatch", "AuthFailure"):
        return f"AWS refused the credentials ({code}: {message}): {AWS_CREDENTIALS_FIX}"
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"):
        return (f"AWS denied {operation} ({code}: {message}): the credentials in use lack the permission, "
                "or the datastore bucket is read-only; " + DATASTORE_FIX + " or grant the permission")
    if code in ("NoSuchBucket",):
        return f"the datastore bucket does not exist ({message}): create it, or {DATASTORE_FIX}"
    if is_not_found(error):
        return f"not found: {message or code} ({operation})"
    return f"AWS refused {operation}: {code}: {message}"


def with_fix(message: str, error: BaseException) -> str:
    """A flowc error's message, its cause explained (`... failed: <botocore text>` -> the fix)."""
    cause = error.__cause__ or error.__context__
    if cause is not None and str(cause) and str(cause) in message:
        line, code = describe(cause)
        if code == EXIT_ERRORS:
            return message.replace(str(cause), line)
    if "credentials" in message.lower() and "AWS_PROFILE" not in message:
        return f"{message}; {AWS_CREDENTIALS_FIX}"
    return message


def describe(error: BaseException) -> tuple[str, int]:
    """(one line, exit code) for an exception that reached the command line."""
    names = _mro_names(error)
    for explain in (_aws, _kubernetes):
        line = explain(error, names)
        if line is not None:
            return line, EXIT_ERRORS
    if names & {"DeployError", "RunError", "BackendError", "SettingsError", "DatastoreError"}:
        return with_fix(str(error), error), EXIT_ERRORS
    if isinstance(error, OSError):
        return _oserror(error), EXIT_ERRORS
    if isinstance(error, (OverflowError, RecursionError, MemoryError)):
        return (f"internal error: {type(error).__name__}: {error} (a value too large?); this is a bug, please "
                "report it with the output of FLOWC_DEBUG=1"), EXIT_INTERNAL
    return (f"internal error: {type(error).__name__}: {error}; this is a bug, please report it with the "
            "output of FLOWC_DEBUG=1"), EXIT_INTERNAL


def debug() -> bool:
    return os.environ.get("FLOWC_DEBUG", "") not in ("", "0")


def report(error: BaseException) -> int:
    """Print the one line (and, with FLOWC_DEBUG=1, the traceback first); return the exit code."""
    import traceback

    if debug():
        click.echo("".join(traceback.format_exception(type(error), error, error.__traceback__)), err=True, nl=False)
    line, code = describe(error)
    click.echo(f"flowc: error: {' '.join(line.split())}", err=True)
    return code


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command; turn any exception but click's own into one line and an exit code."""
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except KeyboardInterrupt:
        click.echo("flowc: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:       # `flowc graph | head -1`: the reader left; nothing to say
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        sys.exit(EXIT_ERRORS)
    except Exception as error:  # noqa: BLE001 - the point: no traceback reaches the user
        sys.exit(report(error))
