"""@secrets: the task reads its sources from AWS Secrets Manager (a moto server on 127.0.0.1) when
it starts and the step sees their keys as environment variables; the values never reach the spec,
the code package or the compiled output."""
import hashlib
import json
import textwrap

import boto3

from tests.runtime_fixtures import file_root, run

FLOW = '''
import hashlib
import os

from metaflow import FlowSpec, secrets, step


class SecretFlow(FlowSpec):
    @secrets(sources=["db-credentials"])
    @step
    def start(self):
        self.user = os.environ["DB_USER"]
        self.password_sha = hashlib.sha256(os.environ["DB_PASSWORD"].encode()).hexdigest()
        self.next(self.end)

    @step
    def end(self):
        assert "DB_PASSWORD" not in os.environ      # only the step that asks gets them


if __name__ == "__main__":
    SecretFlow()
'''
PASSWORD = "s3cr3t-value-never-in-output"


def _flow(tmp_path):
    path = tmp_path / "secret_flow.py"
    path.write_text(textwrap.dedent(FLOW))
    return str(path)


def test_secret_keys_reach_the_step_as_environment(tmp_path, moto_server):
    from runtime_shim.client import Run

    boto3.client("secretsmanager", endpoint_url=moto_server).create_secret(
        Name="db-credentials", SecretString=json.dumps({"DB_USER": "alice", "DB_PASSWORD": PASSWORD}))
    root = file_root(tmp_path)
    code, rid, out = run(_flow(tmp_path), datastore=root)
    assert code == 0, out
    data = Run("SecretFlow/" + rid, datastore=root)["start"].task.data
    assert data.user == "alice"
    assert data.password_sha == hashlib.sha256(PASSWORD.encode()).hexdigest()
    assert PASSWORD not in out


def test_a_missing_secret_fails_the_task_with_its_name(tmp_path, moto_server):
    flow = _flow(tmp_path)
    text = open(flow).read().replace("db-credentials", "no-such-secret")
    open(flow, "w").write(text)
    code, rid, out = run(flow, datastore=file_root(tmp_path))
    assert code == 1
    assert "no-such-secret" in out


def test_only_secret_names_are_compiled(tmp_path):
    import io
    import zipfile

    from compiler.pipeline import compile_file
    from compiler.settings import resolve

    settings = resolve({"datastore": "s3://bucket/flowc"})
    for target in ("argo", "stepfunctions"):
        result = compile_file(_flow(tmp_path), target, settings=settings)
        assert result.ok, result.diagnostics
        spec = json.loads(zipfile.ZipFile(io.BytesIO(result.package.data)).read("flowc.json"))
        assert spec["steps"]["start"]["secrets"] == ["db-credentials"]
        text = b"".join(f.content for f in result.files)
        assert PASSWORD.encode() not in text
