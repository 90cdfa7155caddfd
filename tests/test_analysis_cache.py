"""The analysis cache (compiler/frontend/cache.py): a hit equals a fresh analysis, never imports
libcst, and every input of the analysis invalidates it (a wrong hit is a wrong compile)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import codepackage
from compiler.cli import main
from compiler.frontend import cache as cache_mod
from compiler.frontend.api import analyze_file
from compiler.frontend.cache import AnalysisCache

REPO = Path(__file__).resolve().parent.parent
FLOWS = REPO / "tests" / "flows"
CORPUS = sorted(FLOWS.rglob("*.py"))

FLOW = textwrap.dedent('''\
    from consts import CPU
    from metaflow import FlowSpec, resources, step


    class ConstFlow(FlowSpec):
        @resources(cpu=CPU, memory=2048)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    ''')


def cpu_of(analysis) -> object:
    deco = analysis.model.steps["start"].decorators
    return next(d for d in deco if d.name == "resources").args.get("cpu")


def entries(cache_dir) -> list[Path]:
    return sorted((Path(cache_dir) / "analysis").glob("*.json"))


@pytest.fixture
def project(tmp_path):
    d = tmp_path / "proj"
    d.mkdir()
    (d / "flow.py").write_text(FLOW)
    (d / "consts.py").write_text("CPU = 2\n")
    return d


def analyze_twice(path, cache):
    """(miss, hit): the second must come from the cache (asserted by the entry being read)."""
    first = analyze_file(str(path), cache=cache)
    second = analyze_file(str(path), cache=cache)
    return first, second


# ------------------------------------------------------------------ equality over the corpus
def test_corpus_hits_equal_fresh_analyses(tmp_path):
    assert len(CORPUS) >= 100, "the flow corpus went missing"
    cache = AnalysisCache(str(tmp_path / "c"))
    for path in CORPUS:
        fresh = analyze_file(str(path))
        analyze_file(str(path), cache=cache)
        data = path.read_bytes()
        hit = cache.load(str(path), None, data)
        assert hit is not None, path
        model, graph, diagnostics = hit
        assert (model, graph, diagnostics) == (fresh.model, fresh.graph, fresh.diagnostics), path
        if graph is not None:
            assert graph.flow is model
            assert all(n.step is None or n.step is model.steps[n.name] for n in graph.nodes.values())
        again = analyze_file(str(path), cache=cache)
        assert again.source == fresh.source and again.path == fresh.path


def test_values_of_every_kind_round_trip(tmp_path):
    flow = tmp_path / "kinds.py"
    flow.write_text(textwrap.dedent('''\
        from metaflow import FlowSpec, Parameter, environment, step


        class KindsFlow(FlowSpec):
            p = Parameter("p", default=(1, 2.5, None, True, "x"), help="tuple default")

            @environment(vars={"A": "1", "B": f"{3}"})
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        '''))
    fresh = analyze_file(str(flow))
    cache = AnalysisCache(str(tmp_path / "c"))
    _, hit = analyze_twice(flow, cache)
    assert hit.model == fresh.model
    assert hit.model.parameters[0].default == (1, 2.5, None, True, "x")
    assert type(hit.model.parameters[0].default) is tuple
    enc = cache_mod._enc({1: b"\x00", "$x": frozenset({1}), "s": {2}, "c": 1j, "t": ((1,),)})
    assert cache_mod._dec(json.loads(json.dumps(enc))) == {1: b"\x00", "$x": frozenset({1}), "s": {2},
                                                           "c": 1j, "t": ((1,),)}


# ------------------------------------------------------------------ libcst is never imported on a hit
HIT_PROBE = textwrap.dedent('''\
    import sys
    from compiler.cli import main
    try:
        main(sys.argv[1:], standalone_mode=False)
    except SystemExit:
        pass
    sys.stdout.flush()
    print("\\nLIBCST_IMPORTED=%s" % ("libcst" in sys.modules), file=sys.stderr)
    print("HEAVY=%s" % sorted(m for m in ("boto3", "kubernetes", "jinja2", "networkx") if m in sys.modules),
          file=sys.stderr)
    ''')


def _probe(args, env):
    p = subprocess.run([sys.executable, "-c", HIT_PROBE] + args, capture_output=True, text=True, env=env,
                       cwd=str(REPO))
    return p, p.stderr.splitlines()


@pytest.mark.parametrize("command", [["check"], ["compile", "--target", "argo"],
                                     ["compile", "--target", "stepfunctions"]])
def test_a_hit_does_not_import_libcst(project, tmp_path, command):
    env = dict(os.environ, FLOWC_CACHE_DIR=str(tmp_path / "c"))
    env.pop("FLOWC_NO_CACHE", None)
    args = command[:1] + [str(project / "flow.py")] + command[1:]
    cold, lines = _probe(args, env)
    assert cold.returncode == 0, cold.stderr
    assert "LIBCST_IMPORTED=True" in lines          # a miss parses
    warm, lines = _probe(args, env)
    assert warm.returncode == 0, warm.stderr
    assert "LIBCST_IMPORTED=False" in lines, warm.stderr
    assert "HEAVY=[]" in lines, warm.stderr
    assert warm.stdout == cold.stdout                  # same documents from the cache


# ------------------------------------------------------------------ staleness
def test_editing_a_local_module_is_a_miss(project, tmp_path):
    cache = AnalysisCache(str(tmp_path / "c"))
    _, hit = analyze_twice(project / "flow.py", cache)
    assert cpu_of(hit) == 2
    (project / "consts.py").write_text("CPU = 4\n")
    assert cpu_of(analyze_file(str(project / "flow.py"), cache=cache)) == 4
    assert cpu_of(analyze_file(str(project / "flow.py"), cache=cache)) == 4   # the new entry hits


def test_same_size_same_mtime_edit_is_a_miss(project, tmp_path):
    """Contents are hashed, not stat'ed: an edit that keeps size and mtime is still seen."""
    cache = AnalysisCache(str(tmp_path / "c"))
    consts = project / "consts.py"
    st = consts.stat()
    analyze_twice(project / "flow.py", cache)
    consts.write_text("CPU = 8\n")
    os.utime(consts, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cpu_of(analyze_file(str(project / "flow.py"), cache=cache)) == 8


def test_creating_and_deleting_a_local_module_are_misses(project, tmp_path):
    cache = AnalysisCache(str(tmp_path / "c"))
    (project / "consts.py").unlink()
    _, hit = analyze_twice(project / "flow.py", cache)
    assert not hit.ok and any(d.code == "FC201" for d in hit.diagnostics)   # CPU unknown
    (project / "consts.py").write_text("CPU = 3\n")
    created = analyze_file(str(project / "flow.py"), cache=cache)
    assert created.ok and cpu_of(created) == 3
    (project / "consts.py").unlink()
    (project / "consts").mkdir()                                   # now a package
    (project / "consts" / "__init__.py").write_text("CPU = 5\n")
    assert cpu_of(analyze_file(str(project / "flow.py"), cache=cache)) == 5
    (project / "consts" / "__init__.py").unlink()
    deleted = analyze_file(str(project / "flow.py"), cache=cache)
    assert not deleted.ok


def test_editing_the_flow_and_moving_it_are_misses(project, tmp_path):
    cache = AnalysisCache(str(tmp_path / "c"))
    analyze_twice(project / "flow.py", cache)
    (project / "flow.py").write_text(FLOW.replace("memory=2048", "memory=4096"))
    res = analyze_file(str(project / "flow.py"), cache=cache)
    assert next(d for d in res.model.steps["start"].decorators if d.name == "resources").args["memory"] == 4096
    other = tmp_path / "other"
    other.mkdir()
    (other / "flow.py").write_text(FLOW.replace("memory=2048", "memory=4096"))
    (other / "consts.py").write_text("CPU = 7\n")                  # same flow bytes, other folder
    moved = analyze_file(str(other / "flow.py"), cache=cache)
    assert cpu_of(moved) == 7 and moved.path == str(other / "flow.py")
    assert all(d.path in ("", str(other / "flow.py")) for d in moved.diagnostics)


def test_flow_name_is_part_of_the_key(tmp_path):
    flow = tmp_path / "two.py"
    flow.write_text(FLOW.replace("from consts import CPU\n", "CPU = 1\n") + textwrap.dedent('''

        class OtherFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        '''))
    cache = AnalysisCache(str(tmp_path / "c"))
    a = analyze_file(str(flow), "ConstFlow", cache=cache)
    b = analyze_file(str(flow), "OtherFlow", cache=cache)
    assert (a.model.class_name, b.model.class_name) == ("ConstFlow", "OtherFlow")
    assert analyze_file(str(flow), "OtherFlow", cache=cache).model.class_name == "OtherFlow"
    assert len(entries(tmp_path / "c")) == 2


def test_a_new_flowc_version_is_a_miss(project, tmp_path, monkeypatch):
    import compiler

    cache = AnalysisCache(str(tmp_path / "c"))
    analyze_twice(project / "flow.py", cache)
    data = (project / "flow.py").read_bytes()
    assert cache.load(str(project / "flow.py"), None, data) is not None
    monkeypatch.setattr(cache_mod, "_FINGERPRINT", None)
    monkeypatch.setattr(compiler, "__version__", compiler.__version__ + ".post1")
    assert cache.load(str(project / "flow.py"), None, data) is None
    analyze_file(str(project / "flow.py"), cache=cache)
    assert cache.load(str(project / "flow.py"), None, data) is not None
    assert len(entries(tmp_path / "c")) == 2


def test_an_edited_flowc_source_file_changes_the_fingerprint(tmp_path, monkeypatch):
    """A checkout being developed: any file of the compiler package changes the fingerprint."""
    import compiler

    fake = tmp_path / "compiler"
    (fake / "frontend").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "frontend" / "parse.py").write_text("X = 1\n")
    monkeypatch.setattr(compiler, "__file__", str(fake / "__init__.py"))

    def fp():
        monkeypatch.setattr(cache_mod, "_FINGERPRINT", None)
        return cache_mod.fingerprint()

    before = fp()
    assert fp() == before
    (fake / "frontend" / "parse.py").write_text("X = 22\n")
    assert fp() != before
    after_edit = fp()
    (fake / "frontend" / "lint.py").write_text("")
    assert fp() != after_edit


# ------------------------------------------------------------------ a damaged cache is a miss
@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip_body", "other_key", "foreign_class",
                                    "empty", "wrong_format"])
def test_a_damaged_entry_is_a_miss_and_is_replaced(project, tmp_path, damage):
    cache = AnalysisCache(str(tmp_path / "c"))
    analyze_file(str(project / "flow.py"), cache=cache)
    [entry] = entries(tmp_path / "c")
    raw = entry.read_text()
    doc = json.loads(raw)
    if damage == "truncate":
        entry.write_text(raw[: len(raw) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\x80\x81not json")
    elif damage == "flip_body":
        doc["body"] = doc["body"].replace('"cpu":2', '"cpu":9')
        assert '"cpu":9' in doc["body"]
        entry.write_text(json.dumps(doc))
    elif damage == "other_key":
        doc["key"] = "0" * 64
        entry.write_text(json.dumps(doc))
    elif damage == "foreign_class":
        import hashlib

        body = json.loads(doc["body"])
        body["graph"] = {"$obj": "Popen", "fields": {"args": ["true"]}}
        doc["body"] = json.dumps(body)
        doc["sha256"] = hashlib.sha256(doc["body"].encode()).hexdigest()   # checksum fine, content not
        entry.write_text(json.dumps(doc))
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "wrong_format":
        doc["format"] = 999
        entry.write_text(json.dumps(doc))
    assert cache.load(str(project / "flow.py"), None, (project / "flow.py").read_bytes()) is None
    res = analyze_file(str(project / "flow.py"), cache=cache)
    assert res.ok and cpu_of(res) == 2
    assert cache.load(str(project / "flow.py"), None, (project / "flow.py").read_bytes()) is not None


def test_an_unusable_cache_dir_never_fails_the_analysis(project, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    cache = AnalysisCache(str(blocker))
    res = analyze_file(str(project / "flow.py"), cache=cache)
    assert res.ok and cpu_of(res) == 2
    r = CliRunner().invoke(main, ["check", str(project / "flow.py"), "--cache-dir", str(tmp_path / "afile2")])
    assert r.exit_code == 0


CONCURRENT = textwrap.dedent('''\
    import sys
    from compiler.frontend.api import analyze_file
    from compiler.frontend.cache import AnalysisCache
    cache = AnalysisCache(sys.argv[1])
    plain = AnalysisCache(sys.argv[1] + "-unused")
    want = analyze_file(sys.argv[2])
    hits = 0
    for i in range(int(sys.argv[3])):
        got = analyze_file(sys.argv[2], cache=cache)
        assert (got.model, got.graph, got.diagnostics) == (want.model, want.graph, want.diagnostics), i
        cache.store(sys.argv[2], None, open(sys.argv[2], "rb").read(), want.model, want.graph,
                    want.diagnostics, {})
        hits += cache.load(sys.argv[2], None, open(sys.argv[2], "rb").read()) is not None
    print(hits)
    ''')


def test_concurrent_writers_and_readers_see_whole_entries(tmp_path):
    flow = FLOWS / "shared" / "valid" / "branch.py"
    cdir = str(tmp_path / "c")
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, cdir, str(flow), "25"], cwd=str(REPO),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert int(out.strip()) == 25          # every load right after a store is a whole entry
    assert [p.name for p in entries(cdir)] and not list((Path(cdir) / "analysis").glob(".tmp-*"))


# ------------------------------------------------------------------ where the CLI keeps it
def test_cli_cache_locations(project, tmp_path, monkeypatch):
    flow = str(project / "flow.py")
    monkeypatch.delenv("FLOWC_CACHE_DIR", raising=False)
    monkeypatch.delenv("FLOWC_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert CliRunner().invoke(main, ["check", flow]).exit_code == 0
    assert len(entries(tmp_path / "xdg" / "flowc")) == 1
    monkeypatch.setenv("FLOWC_CACHE_DIR", str(tmp_path / "env"))
    assert CliRunner().invoke(main, ["compile", flow, "-t", "argo"]).exit_code == 0
    assert len(entries(tmp_path / "env")) == 1
    r = CliRunner().invoke(main, ["check", flow, "--cache-dir", str(tmp_path / "flag")])
    assert r.exit_code == 0 and len(entries(tmp_path / "flag")) == 1
    monkeypatch.setenv("FLOWC_NO_CACHE", "1")
    monkeypatch.setenv("FLOWC_CACHE_DIR", str(tmp_path / "off"))
    assert CliRunner().invoke(main, ["compile", flow, "-t", "argo"]).exit_code == 0
    assert not (tmp_path / "off").exists()


def test_settings_are_not_cached(project, tmp_path):
    """Settings act after the front end: a warm compile with another setting says so."""
    flow = str(project / "flow.py")
    args = ["compile", flow, "-t", "argo", "--cache-dir", str(tmp_path / "c")]
    first = CliRunner().invoke(main, args + ["--image", "registry.example/a:1"])
    second = CliRunner().invoke(main, args + ["--image", "registry.example/b:2"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "registry.example/a:1" in first.stdout and "registry.example/a:1" not in second.stdout
    assert "registry.example/b:2" in second.stdout
    assert len(entries(tmp_path / "c")) == 1


def test_cli_hit_reports_the_same_diagnostics(tmp_path):
    bad = str(FLOWS / "shared" / "invalid" / "unknown_next.py")
    args = ["check", bad, "--cache-dir", str(tmp_path / "c")]
    cold = CliRunner().invoke(main, args)
    warm = CliRunner().invoke(main, args)
    assert cold.exit_code == warm.exit_code == 1
    assert cold.output == warm.output and "FC109" in warm.output


# ------------------------------------------------------------------ the runtime's pycs
def test_pyc_cache_gives_the_same_package_and_ignores_damage(tmp_path, monkeypatch):
    """Runtime pycs are kept beside the installed runtime, or (read-only install) in the cache
    dir; either gives the package a fresh compile gives, and a damaged entry is recompiled."""
    from compiler.pipeline import compile_file

    flow = str(FLOWS / "shared" / "valid" / "hello.py")
    installed = tmp_path / "installed"
    monkeypatch.setattr(codepackage, "_installed_pyc_dir", lambda: str(installed))
    codepackage._compile_pyc.cache_clear()
    plain = compile_file(flow, "argo")
    warm1 = compile_file(flow, "argo", cache_dir=str(tmp_path / "c"))
    pycs = sorted(installed.glob("*.pyc"))
    assert pycs and codepackage.PYC_CACHE_DIR is None
    assert not (tmp_path / "c" / "pyc").exists()          # the first writable place has them
    codepackage._compile_pyc.cache_clear()
    for p in pycs:                                   # damaged entries are recompiled, not shipped
        p.write_bytes(p.read_bytes()[:20])
    warm2 = compile_file(flow, "argo", cache_dir=str(tmp_path / "c"))
    assert plain.package.sha256 == warm1.package.sha256 == warm2.package.sha256
    assert all(len(p.read_bytes()) > 20 for p in pycs)
    # a read-only install: the cache dir keeps them
    installed_file = tmp_path / "not-a-dir"
    installed_file.write_text("x")
    monkeypatch.setattr(codepackage, "_installed_pyc_dir", lambda: str(installed_file / "sub"))
    codepackage._compile_pyc.cache_clear()
    warm3 = compile_file(flow, "argo", cache_dir=str(tmp_path / "c"))
    assert warm3.package.sha256 == plain.package.sha256 and list((tmp_path / "c" / "pyc").glob("*.pyc"))


def test_crlf_local_module_reads_as_before(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "flow.py").write_text(FLOW)
    (d / "consts.py").write_bytes(b"# crlf\r\nCPU = 6\r\n")
    fresh = analyze_file(str(d / "flow.py"))
    cached = analyze_file(str(d / "flow.py"), cache=AnalysisCache(str(tmp_path / "c")))
    assert cpu_of(fresh) == cpu_of(cached) == 6 and fresh.model == cached.model


def test_the_fingerprint_covers_every_module_an_analysis_runs():
    """A module the analysis imports but the fingerprint does not stat would let an edited flowc
    read entries of the old one."""
    probe = textwrap.dedent('''\
        import sys, glob
        from compiler.frontend.api import analyze_file
        for f in sorted(glob.glob(sys.argv[1] + "/**/*.py", recursive=True)):
            analyze_file(f)
        print("\\n".join(m.__file__ for n, m in list(sys.modules.items())
                         if (n == "compiler" or n.startswith("compiler.")) and getattr(m, "__file__", None)))
        ''')
    p = subprocess.run([sys.executable, "-c", probe, str(FLOWS)], capture_output=True, text=True, cwd=str(REPO))
    assert p.returncode == 0, p.stderr
    root = REPO / "compiler"
    used = sorted(str(Path(f).resolve().relative_to(root)) for f in p.stdout.split())
    assert "frontend/parse.py" in used and "decorators.py" in used
    uncovered = [u for u in used if not any(u == part or u.startswith(part + "/")
                                            for part in cache_mod.ANALYZER_PARTS)]
    assert uncovered == []


CONFIG_FLOW = '''
from metaflow import Config, FlowSpec, resources, step


class CfgFlow(FlowSpec):
    cfg = Config("cfg", default="cfg.json")

    @resources(cpu=cfg.cpu)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _cpu(analysis) -> object:
    step = analysis.model.steps["start"]
    return next(d for d in step.decorators if d.name == "resources").args["cpu"]


def test_config_files_and_options_are_part_of_what_a_hit_checks(tmp_path):
    """A Config's file is a dependency like a local module; --config-value is part of the key;
    --resolve-env analyses (environment values) are never cached."""
    from compiler.frontend.configs import FrontendOptions

    flow = tmp_path / "cfg_flow.py"
    flow.write_text(CONFIG_FLOW)
    (tmp_path / "cfg.json").write_text('{"cpu": 2}')
    cache = AnalysisCache(str(tmp_path / "c"))
    assert _cpu(analyze_file(flow, cache=cache)) == 2
    assert _cpu(analyze_file(flow, cache=cache)) == 2           # a hit
    (tmp_path / "cfg.json").write_text('{"cpu": 3}')
    assert _cpu(analyze_file(flow, cache=cache)) == 3           # the edited config is a miss
    other = FrontendOptions(config_values=(("cfg", '{"cpu": 5}'),))
    assert _cpu(analyze_file(flow, options=other, cache=cache)) == 5
    assert _cpu(analyze_file(flow, cache=cache)) == 3
    env = FrontendOptions(resolve_env=True, environ={})
    before = sorted(os.listdir(os.path.join(str(tmp_path / "c"), "analysis")))
    analyze_file(flow, options=env, cache=cache)
    assert sorted(os.listdir(os.path.join(str(tmp_path / "c"), "analysis"))) == before
