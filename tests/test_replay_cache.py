"""The replay cache in front of the CLI (compiler/entry.py, compiler/recording.py): a hit gives
the bytes a real run gives (stdout, stderr, files, exit code), and every change to what the run
depended on is a miss. Each command is run as the console script runs it, in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOWC = [sys.executable, "-c", "import sys; sys.argv[0] = 'flowc'; from compiler.entry import main; main()"]

FLOW = textwrap.dedent('''\
    from metaflow import Config, FlowSpec, step

    from helper import GREETING


    class ReplayFlow(FlowSpec):
        cfg = Config("cfg", default="cfg.json")

        @step
        def start(self):
            try:
                import extra
            except ImportError:
                extra = None
            name = "table"
            print(GREETING, extra, open(f"data/{name}.csv").read())
            self.next(self.end)

        @step
        def end(self):
            pass
    ''')


@pytest.fixture
def project(tmp_path):
    d = tmp_path / "proj"
    (d / "data").mkdir(parents=True)
    (d / "flow.py").write_text(FLOW)
    (d / "helper.py").write_text('GREETING = "hi"\n')
    (d / "cfg.json").write_text('{"a": 1}\n')
    (d / "data" / "table.csv").write_text("a,b\n1,2\n")
    (d / "pyproject.toml").write_text('[tool.flowc]\nimage = "python:3.11"\n')
    return d


def env_for(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env.update(FLOWC_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def replay_entries(tmp_path) -> list[Path]:
    d = tmp_path / "cache" / "replay"
    return sorted(d.glob("*.json")) if d.is_dir() else []


def flowc(args, cwd, env, probe=False):
    """(exit code, stdout bytes, stderr bytes, the files of -o DIR if any, whether it replayed)."""
    cmd = list(FLOWC)
    if probe:   # after the command: which heavy modules the process imported
        cmd[2] = ("import sys, atexit; sys.argv[0] = 'flowc'\n"
                  "atexit.register(lambda: open(%r, 'w').write(' '.join(sorted(m for m in "
                  "('click', 'yaml', 'libcst', 'compiler.cli') if m in sys.modules))))\n"
                  "from compiler.entry import main; main()" % str(probe))
    p = subprocess.run(cmd + list(args), cwd=str(cwd), env=env, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def outputs(out_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())} if out_dir.is_dir() else {}


def run_twice(args, cwd, env, tmp_path, out_dir=None):
    """A first run and a second one; (first, second, whether the second replayed). A replayed run
    does not import compiler.cli."""
    mods = tmp_path / "mods.txt"
    first = flowc(args, cwd, env) + (outputs(out_dir) if out_dir else {},)
    if out_dir:
        for f in out_dir.iterdir():
            f.unlink()
    second = flowc(args, cwd, env, probe=mods) + (outputs(out_dir) if out_dir else {},)
    return first, second, "compiler.cli" not in mods.read_text()


def test_hit_gives_the_bytes_of_a_miss_and_of_no_cache(project, tmp_path):
    env = env_for(tmp_path)
    out = project / "out"
    args = ["compile", "flow.py", "-t", "argo", "-o", "out"]
    miss, hit, replayed = run_twice(args, project, env, tmp_path, out)
    assert replayed and len(replay_entries(tmp_path)) == 1
    assert miss == hit
    assert miss[0] == 0 and set(miss[3]) >= {"ReplayFlow.code.zip", "ReplayFlow.manifest.json"}
    for f in out.iterdir():
        f.unlink()
    nocache = flowc(args, project, dict(env, FLOWC_NO_CACHE="1")) + (outputs(out),)
    assert nocache == hit
    # stdout too (no -o)
    m2, h2, replayed = run_twice(["compile", "flow.py", "-t", "argo"], project, env, tmp_path)
    assert replayed and m2 == h2 and m2[0] == 0 and b"kind: WorkflowTemplate" in m2[1]


def test_the_hit_path_imports_no_click_yaml_or_libcst(project, tmp_path):
    env = env_for(tmp_path)
    mods = tmp_path / "heavy.txt"
    flowc(["compile", "flow.py", "-t", "argo"], project, env)
    code, _, _ = flowc(["compile", "flow.py", "-t", "argo"], project, env, probe=mods)
    assert code == 0 and mods.read_text() == ""
    flowc(["compile", "flow.py", "-t", "argo"], project, dict(env, FLOWC_NO_CACHE="1"), probe=mods)
    assert "click" in mods.read_text().split()          # the probe sees what a real run imports


def _edit(path: Path, text: str) -> None:
    path.write_text(text)


CHANGES = {
    "flow edited": lambda d: _edit(d / "flow.py", FLOW.replace("pass", "x = 1")),
    "local module edited": lambda d: _edit(d / "helper.py", 'GREETING = "ho"\n'),
    "local module deleted": lambda d: (d / "helper.py").unlink(),
    "local module created": lambda d: _edit(d / "extra.py", "X = 1\n"),
    "package data edited": lambda d: _edit(d / "data" / "table.csv", "a,b\n3,4\n"),
    "package data added": lambda d: _edit(d / "data" / "other.csv", "x\n"),
    "config edited": lambda d: _edit(d / "cfg.json", '{"a": 2}\n'),
    "settings edited": lambda d: _edit(d / "pyproject.toml", '[tool.flowc]\nimage = "python:3.12"\n'),
    "settings file deleted": lambda d: (d / "pyproject.toml").unlink(),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_input_is_a_miss(project, tmp_path, change):
    env = env_for(tmp_path)
    args = ["compile", "flow.py", "-t", "argo", "-o", "out"]
    flowc(args, project, env)
    CHANGES[change](project)
    mods = tmp_path / "mods.txt"
    after = flowc(args, project, env, probe=mods)
    assert "compiler.cli" in mods.read_text(), "a stale entry was replayed"
    got = outputs(project / "out")
    for f in (project / "out").iterdir():
        f.unlink()
    assert after + (got,) == flowc(args, project, dict(env, FLOWC_NO_CACHE="1")) + (outputs(project / "out"),)


@pytest.mark.parametrize("variant", ["env", "target", "with", "output dir"])
def test_a_different_command_or_environment_is_a_miss(project, tmp_path, variant):
    env = env_for(tmp_path)
    args = ["compile", "flow.py", "-t", "argo", "-o", "out"]
    flowc(args, project, env)
    if variant == "env":
        env = dict(env, FLOWC_IMAGE="python:3.13")
    elif variant == "target":
        args[3] = "stepfunctions"
    elif variant == "with":
        args += ["--with", "retry"]
    else:
        args[-1] = "out2"
    mods = tmp_path / "mods.txt"
    flowc(args, project, env, probe=mods)
    assert "compiler.cli" in mods.read_text()


def test_a_touched_flowc_source_file_is_a_miss(project, tmp_path, monkeypatch):
    import compiler.entry as entry

    before = entry.identity()
    target = REPO / "compiler" / "targets" / "argo" / "names.py"
    st = target.stat()
    try:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert entry.identity() != before
    finally:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert entry.identity() == before


def test_a_relative_path_from_another_cwd_is_a_miss(project, tmp_path):
    env = env_for(tmp_path)
    other = tmp_path / "other"
    (other / "proj").mkdir(parents=True)
    for name in ("flow.py", "helper.py", "cfg.json", "pyproject.toml"):
        (other / "proj" / name).write_text((project / name).read_text().replace("hi", "other"))
    (other / "proj" / "data").mkdir()
    (other / "proj" / "data" / "table.csv").write_text("z\n")
    args = ["compile", "proj/flow.py", "-t", "argo"]
    a = flowc(args, tmp_path, env)
    mods = tmp_path / "mods.txt"
    b = flowc(args, other, env, probe=mods)
    assert "compiler.cli" in mods.read_text()
    assert a[0] == b[0] == 0 and a[1] != b[1]


BAD = textwrap.dedent('''\
    from metaflow import FlowSpec, step


    class BadFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.nowhere)

        @step
        def end(self):
            pass
    ''')


@pytest.mark.parametrize("command", [["check", "bad.py"], ["compile", "bad.py", "-t", "argo"]])
def test_diagnostics_replay(tmp_path, command):
    d = tmp_path / "p"
    d.mkdir()
    (d / "bad.py").write_text(BAD)
    env = env_for(tmp_path)
    miss, hit, replayed = run_twice(command, d, env, tmp_path)
    assert replayed and miss == hit
    assert miss[0] == 1 and b"nowhere" in miss[2] + miss[1]


def test_cache_dir_flag_is_honoured_and_no_cache_turns_it_off(project, tmp_path):
    env = env_for(tmp_path)
    elsewhere = tmp_path / "flagdir"
    args = ["compile", "flow.py", "-t", "argo", "--cache-dir", str(elsewhere)]
    flowc(args, project, env)
    assert len(list((elsewhere / "replay").glob("*.json"))) == 1 and not replay_entries(tmp_path)
    flowc(["compile", "flow.py", "-t", "argo"], project, dict(env, FLOWC_NO_CACHE="1"))
    assert not replay_entries(tmp_path)
    flowc(["compile", "flow.py", "-t", "argo"], project, dict(env, FLOWC_NO_REPLAY="1"))
    assert not replay_entries(tmp_path) and list((tmp_path / "cache" / "analysis").glob("*.json"))


def test_a_damaged_entry_is_a_miss(project, tmp_path):
    env = env_for(tmp_path)
    args = ["compile", "flow.py", "-t", "argo"]
    good = flowc(args, project, env)
    (entry,) = replay_entries(tmp_path)
    raw = json.loads(entry.read_text())
    body = json.loads(raw["body"])
    body["stdout"] = "AAAA"                         # the checksum no longer matches
    raw["body"] = json.dumps(body)
    entry.write_text(json.dumps(raw))
    assert flowc(args, project, env) == good
    entry.write_text("{not json")
    assert flowc(args, project, env) == good


def test_a_run_cut_short_by_a_closed_pipe_is_not_stored(project, tmp_path):
    env = env_for(tmp_path)
    cmd = FLOWC + ["compile", "flow.py", "-t", "argo"]
    p = subprocess.Popen(cmd, cwd=str(project), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(10)
    p.stdout.close()
    p.stderr.read()
    assert p.wait() == 1
    assert not replay_entries(tmp_path)
    miss, hit, replayed = run_twice(["compile", "flow.py", "-t", "argo"], project, env, tmp_path)
    assert replayed and miss == hit and miss[0] == 0 and len(miss[1]) > 1000


READS_STDIN = textwrap.dedent('''\
    import sys
    from compiler.recording import Recorder

    def command():
        data = sys.stdin.read()
        sys.stdout.write("got %d\\n" % len(data))
        sys.exit(0)

    def quiet():
        sys.stdout.write("hello\\n")
        print("warn", file=sys.stderr)
        sys.exit(3)

    for fn in (command, quiet):
        rec = Recorder(exclude=(sys.argv[1],))
        code = rec.run(fn)
        print(fn.__name__, code, rec.replayable(), bytes(rec.out.data), bytes(rec.err.data), file=sys.stderr)
    ''')


def test_reading_stdin_makes_a_run_not_replayable(tmp_path):
    p = subprocess.run([sys.executable, "-c", READS_STDIN, str(tmp_path)], input=b"abc", capture_output=True,
                       cwd=str(REPO))
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"got 3\nhello\n"
    lines = p.stderr.decode().splitlines()
    assert "command 0 False b'got 3\\n' b''" in lines
    assert "quiet 3 True b'hello\\n' b'warn\\n'" in lines


def test_a_symlinked_project_pointed_elsewhere_is_a_miss(project, tmp_path):
    """Same bytes at every path the run opened through the link; only the resolved folder (where
    pyproject.toml is looked for) differs."""
    import shutil

    (project / "pyproject.toml").unlink()
    other = tmp_path / "sub" / "proj2"
    shutil.copytree(project, other)
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.flowc]\nimage = "python:3.12-from-sub"\n')
    link = tmp_path / "current"
    link.symlink_to(project)
    env = env_for(tmp_path)
    args = ["compile", "current/flow.py", "-t", "argo"]
    a = flowc(args, tmp_path, env)
    link.unlink()
    link.symlink_to(other)
    mods = tmp_path / "mods.txt"
    b = flowc(args, tmp_path, env, probe=mods)
    assert "compiler.cli" in mods.read_text()
    assert b == flowc(args, tmp_path, dict(env, FLOWC_NO_CACHE="1"))
    assert a[0] == b[0] == 0 and b"from-sub" in b[1] and b"from-sub" not in a[1]
