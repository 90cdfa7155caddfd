"""The one code-package rule (compiler/codepackage.package_contents): what `flowc run`, `compile`
and `deploy` put beside the flow in the package, and what they refuse to put there."""
from __future__ import annotations

import os
import zipfile
import io

import pytest

from compiler import codepackage, datafiles

FLOW = '''\
import os
from pathlib import Path
import pandas as pd
from metaflow import FlowSpec, step


class DataFlow(FlowSpec):
    @step
    def start(self):
        self.shards = {c: open(f"{c}.data").read() for c in ["US", "BR"]}
        self.table = pd.read_csv("data/x.csv")
        self.cfg = Path("conf.json").read_text()
        self.near = open(os.path.join(os.path.dirname(__file__), "near.txt")).read()
        self.older = open("%s.txt" % "old")
        open("written.txt", "w").write("x")
        Path("results").mkdir()
        Path("made.txt").write_text("y")
        self.next(self.end)

    @step
    def end(self):
        open("missing.bin", "rb")
        open("/etc/passwd")
        open("../outside.txt")
        open("id_rsa")
'''


@pytest.fixture
def flow_dir(tmp_path):
    (tmp_path / "flow.py").write_text(FLOW)
    for name, text in {"US.data": "us", "BR.data": "br", "conf.json": "{}", "near.txt": "n",
                       "old.txt": "o", "id_rsa": "KEY", ".env": "SECRET=1", "unrelated.csv": "u",
                       "results.txt": "r"}.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b\n")
    (tmp_path.parent / "outside.txt").write_text("host file")
    return tmp_path


def test_literal_paths_found_with_lines(flow_dir):
    refs = {r.path: (r.line, r.col) for r in datafiles.literal_paths(str(flow_dir / "flow.py"))}
    assert refs["*.data"] == (10, 27)
    assert refs["data/x.csv"] == (11, 22)
    assert refs["conf.json"][0] == 12
    assert refs["near.txt"][0] == 13
    assert refs["*.txt"][0] == 14
    assert refs["missing.bin"][0] == 22
    # writes, absolute paths and paths out of the folder are not data to package
    for path in ("written.txt", "results", "made.txt", "/etc/passwd", "../outside.txt"):
        assert path not in refs


def test_package_holds_what_the_flow_reads_and_nothing_else(flow_dir):
    contents = codepackage.package_contents(str(flow_dir / "flow.py"))
    assert contents.files == ("BR.data", "US.data", "conf.json", "data/x.csv", "flow.py", "near.txt",
                              "old.txt", "results.txt")
    codes = [(n.code, n.line) for n in contents.notes]
    assert ("FC010", 22) in codes                    # missing.bin: named with its line
    assert ("FC011", 25) in codes                    # id_rsa: read, but never packaged by discovery
    assert "unrelated.csv" not in contents.files and ".env" not in contents.files


def test_credentials_need_an_exact_include(flow_dir):
    by_glob = codepackage.package_contents(str(flow_dir / "flow.py"), include_globs=["*", ".*"])
    assert "unrelated.csv" in by_glob.files
    assert "id_rsa" not in by_glob.files and ".env" not in by_glob.files
    skipped = {n.message.split("'")[1] for n in by_glob.notes if n.code == "FC011"}
    assert skipped == {"id_rsa", ".env"}
    exact = codepackage.package_contents(str(flow_dir / "flow.py"), include_globs=["id_rsa"])
    assert "id_rsa" in exact.files
    assert not [n for n in exact.notes if n.code == "FC011"]


@pytest.mark.parametrize("name", [".env", ".env.prod", "credentials", "id_ed25519", "server.pem", "tls.key",
                                  ".aws/credentials", ".ssh/config", ".netrc", "x/.kube/config"])
def test_credential_names(name):
    assert codepackage.looks_like_credentials(name)


@pytest.mark.parametrize("name", ["table.csv", "keys.txt", "monkey.json", "environment.yml", "pem_notes.md"])
def test_ordinary_names(name):
    assert not codepackage.looks_like_credentials(name)


def test_links_out_of_the_folder_are_not_packaged(flow_dir):
    os.symlink(flow_dir.parent / "outside.txt", flow_dir / "linked.txt")
    (flow_dir / "flow.py").write_text(FLOW.replace('"near.txt"', '"linked.txt"'))
    contents = codepackage.package_contents(str(flow_dir / "flow.py"))
    assert "linked.txt" not in contents.files


def test_zip_holds_exactly_the_contents(flow_dir):
    data, _ = codepackage.build(str(flow_dir / "flow.py"), b"{}")
    names = {n[len("flow/"):] for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("flow/")}
    assert names == set(codepackage.package_contents(str(flow_dir / "flow.py")).files)


def _flowc(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))})


@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
def test_compile_warns_with_file_line_and_column(flow_dir, tmp_path_factory, target):
    out = tmp_path_factory.mktemp("out")
    r = _flowc("compile", str(flow_dir / "flow.py"), "--target", target, "-o", str(out),
               "--datastore", "s3://bucket/prefix", cwd=flow_dir)
    assert r.returncode == 0, r.stderr
    assert f"{flow_dir / 'flow.py'}:22:9: FC010" in r.stderr or "flow.py:22:9: FC010" in r.stderr, r.stderr
    assert "flow.py:25:9: FC011" in r.stderr, r.stderr


INCLUDE_FLOW = '''\
from metaflow import FlowSpec, IncludeFile, step


class IncludeFlow(FlowSpec):
    table = IncludeFile("table", default="{default}")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("default", ["../secret.txt", "/etc/hostname", "sub/../../secret.txt"])
@pytest.mark.parametrize("target", ["argo", "stepfunctions"])
def test_include_file_outside_the_folder_is_refused(tmp_path, default, target):
    from compiler.pipeline import compile_file
    from compiler.settings import resolve

    flow_dir = tmp_path / "flows"
    (flow_dir / "sub").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (flow_dir / "flow.py").write_text(INCLUDE_FLOW.format(default=default))
    settings = resolve({"datastore": "s3://bucket/p"}, environ={})
    result = compile_file(str(flow_dir / "flow.py"), target, settings=settings)
    errors = [d for d in result.diagnostics if d.is_error]
    assert [(d.code, d.span.line, d.span.col) for d in errors] == [("FC213", 5, 5)]
    assert not result.files
    allowed = compile_file(str(flow_dir / "flow.py"), target,
                           settings=resolve({"datastore": "s3://bucket/p", "allow_outside_files": "true"}, environ={}))
    if default == "/etc/hostname":
        return                     # whether the CI machine has it is not this test's business
    assert allowed.ok, allowed.diagnostics
    if target == "argo":           # opted in: the content is read and travels in the arguments
        assert b"TOP SECRET" in b"".join(f.content for f in allowed.files)


def test_include_file_default_travels_in_the_package(tmp_path):
    from compiler.pipeline import compile_file
    from compiler.settings import resolve

    (tmp_path / "flow.py").write_text(INCLUDE_FLOW.format(default="data/table.csv"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table.csv").write_text("a,1\n")
    result = compile_file(str(tmp_path / "flow.py"), "stepfunctions",
                          settings=resolve({"datastore": "s3://bucket/p"}, environ={}))
    assert result.ok, result.diagnostics
    names = zipfile.ZipFile(io.BytesIO(result.package.data)).namelist()
    assert "flow/data/table.csv" in names


def test_a_package_the_flow_imports_travels_whole_with_its_data_and_no_false_fc010():
    """tests/flows/valid_own/pkg: `from shapes import ...` packs the directory (its submodules and
    the note.txt its code reads beside its own __file__), for run and compile alike."""
    from compiler.codepackage import package_contents
    from compiler.frontend.api import analyze_file

    flow = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flows", "valid_own", "pkg", "flow_pkg.py")
    for local in ((), tuple(analyze_file(flow).model.local_modules)):      # run passes none; compile its own
        contents = package_contents(flow, local)
        assert {"shapes/__init__.py", "shapes/circle.py", "shapes/square.py", "shapes/note.txt"} <= set(contents.files)
        assert [n.code for n in contents.notes] == []
