"""A coverage-guided, sampled mutation score (tests/README.md, "Mutation score").

mutmut 2.5.1's mutation operators and `coverage` are installed by hand (`pip install mutmut==2.5.1
coverage`); neither is a test dependency. Two steps, both on a COPY of the checkout (--copy-to), so
the checkout is never mutated:

    python -m tests.mutation_sample cover --copy-to /tmp/flowc-mut   # once: line -> tests map
    nice -n 5 python -m tests.mutation_sample run --copy-to /tmp/flowc-mut --seed 20 --jobs 2
    nice -n 5 python -m tests.mutation_sample run --copy-to /tmp/flowc-mut --seed 20 --jobs 2 --confirm
    python -m tests.mutation_sample check runtime_shim/s3lite.py 23 2 tests/test_mutation_kills.py

`cover` runs COVER_TESTS in the copy under coverage with one context per test (a pytest plugin
switches the context to the test's node id). Subprocesses are measured too: coverage's own .pth
starts it in every Python process that inherits COVERAGE_PROCESS_START (set for this run only), with
the PYTEST_CURRENT_TEST it inherited as its context, and `patch = fork` follows the forkserver's
children (tasks import runtime_shim from the code package zip, built from the copy). The result is
a map module -> line -> node ids, plus each test's time.

`run` draws a seeded stratified sample per module, then for each mutant runs only the tests that
execute its statement (fastest first, `-x`, at most --max-tests of them, --timeout per mutant);
`run --confirm` then re-runs each survivor judged by fewer than all its covering tests with all of
them. Import-time lines (constants, def headers) are judged by the tests of the lines that use what
they define. A mutant whose statement no test
executes is "not covered" (a survivor, decided without running anything). Results are appended to
--out after every mutant, so a partial run is usable.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TARGETS = [
    "runtime_shim/datastore.py", "runtime_shim/s3lite.py", "runtime_shim/task.py", "runtime_shim/secrets.py",
    *[f"compiler/runner/backends/{m}.py" for m in ("__init__", "batch", "kubernetes")],
    *[f"compiler/targets/argo/{m}.py"
      for m in ("__init__", "arguments", "check", "cron", "dag", "names", "resources", "templates")],
    *[f"compiler/targets/stepfunctions/{m}.py" for m in ("__init__", "asl", "check", "common", "eks")],
]

# the fast part of the suite that reaches TARGETS (the long end-to-end executions are left out,
# except the hybrid runs and switch shapes, which are the only tests running tasks on the backends)
COVER_TESTS = [
    "tests/test_runtime_datastore.py", "tests/test_runtime_s3.py", "tests/test_runtime_s3lite.py",
    "tests/test_runtime_api.py", "tests/test_runtime_awslite.py", "tests/test_runtime_params.py",
    "tests/test_runtime_semantics.py", "tests/test_runtime_metaflow_names.py", "tests/test_runtime_bootstrap.py",
    "tests/test_runtime_batch_submit.py", "tests/test_secrets_runtime.py", "tests/test_secrets.py",
    "tests/test_faults_datastore.py", "tests/test_mutation_kills.py", "tests/test_run_switch_shapes.py",
    "tests/test_hybrid_manifests.py", "tests/test_k8s_backend_errors.py", "tests/test_hybrid_runs.py",
    "tests/test_hybrid_preflight.py", "tests/argo/test_emit.py", "tests/argo/test_names.py",
    "tests/argo/test_refusals.py", "tests/stepfunctions/test_sfn_emit.py", "tests/test_ir_targets_agree.py",
    "tests/test_resources_flows_compiled.py", "tests/test_schedules.py", "tests/test_hostile_injection.py",
    "tests/test_deploy_argo.py", "tests/test_deploy_argo_errors.py", "tests/test_deploy_stepfunctions.py",
    "tests/test_fuzz_targets.py",
    # added after the run of tests/README.md (they kill survivors of that run)
    "tests/test_mutation_kills_targets.py", "tests/triggers/test_trigger_compile.py", "tests/test_decorator_fates.py",
]

PLUGIN = '''\
import json, os, time
import coverage
import pytest

_times = {}

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)
    began = time.monotonic()
    yield
    _times[item.nodeid] = round(time.monotonic() - began, 2)
    if cov is not None:
        cov.switch_context("")

def pytest_sessionfinish(session):
    if _times:
        with open(os.path.join(os.environ["FLOWC_MUTCOV_DIR"], f"times.{os.getpid()}.json"), "w") as handle:
            json.dump(_times, handle)
'''


def make_copy(copy_to: str) -> None:
    shutil.rmtree(copy_to, ignore_errors=True)
    shutil.copytree(ROOT, copy_to, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "mutants",
                                                                 "__pycache__", ".pytest_cache", ".coverage*"))
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(copy_to, "node_modules"))


def cover(args) -> None:
    make_copy(args.copy_to)
    data_dir = os.path.join(args.copy_to, ".mutcov")
    os.makedirs(data_dir)
    with open(os.path.join(args.copy_to, "_mutcov_plugin.py"), "w") as handle:
        handle.write(PLUGIN)
    rc = os.path.join(data_dir, "coveragerc")
    with open(rc, "w") as handle:
        # $PYTEST_CURRENT_TEST is read when each process starts: a test's subprocesses carry its id
        handle.write("[run]\nparallel = True\nsigterm = True\npatch = fork\n    _exit\n"
                     "context = ${PYTEST_CURRENT_TEST}\n"
                     f"data_file = {data_dir}/cov\ninclude =\n" + "".join(f"    */{t}\n" for t in TARGETS))
    # coverage's own .pth starts it in every process that inherits COVERAGE_PROCESS_START,
    # tasks too (their PYTHONPATH is the code package zip, built from the copy)
    env = dict(os.environ, PYTHONPATH=args.copy_to, PYTHONDONTWRITEBYTECODE="1", COVERAGE_PROCESS_START=rc,
               FLOWC_MUTCOV_DIR=data_dir)
    tests = [t for t in (args.tests or COVER_TESTS) if os.path.exists(os.path.join(ROOT, t))]
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "_mutcov_plugin",
                           "-n", str(args.jobs), *tests], cwd=args.copy_to, env=env)
    print(f"suite under coverage: exit {done.returncode}, {time.monotonic() - began:.0f} s", flush=True)
    import coverage

    cov = coverage.Coverage(data_file=os.path.join(data_dir, "cov"))
    cov.combine([data_dir], keep=True)
    data = cov.get_data()
    lines: dict[str, dict[int, list[str]]] = {}
    for measured in data.measured_files():
        module = next((t for t in TARGETS if measured.endswith("/" + t)), None)
        if module is None:
            continue
        into = lines.setdefault(module, {})
        for line, contexts in data.contexts_by_lineno(measured).items():
            # "static|dynamic": a test's node id, either way; " (call)" is PYTEST_CURRENT_TEST's phase
            names = {c.split("|")[-1].rsplit(" (", 1)[0] for c in contexts}
            into[line] = sorted(set(into.get(line, [])) | {n for n in names if n})
    times: dict[str, float] = {}
    for name in os.listdir(data_dir):
        if name.startswith("times."):
            with open(os.path.join(data_dir, name)) as handle:
                times.update(json.load(handle))
    with open(args.map, "w") as handle:
        json.dump({"suite_exit": done.returncode, "tests": tests, "times": times, "lines": lines}, handle)
    print(f"map: {args.map}; {len(times)} tests; modules measured: {len(lines)}/{len(TARGETS)}")


def statement_lines(source: str) -> dict[int, range]:
    """line -> the lines of the innermost statement (header only, for compound ones) holding it:
    coverage may record any line of a multi-line statement, mutmut names the mutated node's line."""
    found: dict[int, range] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        bodies = [getattr(node, f, None) for f in ("body", "orelse", "finalbody", "handlers", "cases")]
        firsts = [b[0].lineno for b in bodies if isinstance(b, list) and b]
        if firsts:
            end = min(firsts) - 1 if min(firsts) > node.lineno else node.lineno
        start = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
        span = range(start, end + 1)
        for line in span:   # ast.walk is breadth first: inner statements come later and win
            found[line] = span
    return found


def import_time_lines(source: str) -> dict[int, set[int]]:
    """Lines run when the module is imported (module and class bodies, def headers, decorators,
    default values) -> the lines whose tests should judge a mutant there. Coverage credits
    import-time lines to whichever test imported the module first, so they are judged by the
    tests of the lines that use what they define: a function's body for its header, the lines
    reading a module-level name for its assignment, every measured line for anything else."""
    tree = ast.parse(source)
    reads: dict[str, set[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads.setdefault(node.id, set()).add(node.lineno)
        elif isinstance(node, ast.Attribute):
            reads.setdefault(node.attr, set()).add(node.lineno)
    lines: dict[int, set[int]] = {}
    everything: set[int] = set()   # empty: every measured line of the module

    def visit(body: list) -> None:
        for node in body:
            first = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
            end = node.end_lineno or node.lineno
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                used = set(range(node.body[0].lineno, end + 1))
                for line in range(first, node.body[0].lineno):
                    lines[line] = used
            elif isinstance(node, ast.ClassDef):
                used = set(range(node.body[0].lineno, end + 1))
                for line in range(first, node.body[0].lineno):
                    lines[line] = used
                visit(node.body)
            else:
                names = [t.id for t in ast.walk(node) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)]
                used = set().union(*[reads.get(n, set()) for n in names]) if names else everything
                for line in range(first, end + 1):
                    lines[line] = used or everything

    visit(tree.body)
    return lines


def mutants(source: str, path: str) -> list:
    from mutmut import Context, list_mutations

    return list_mutations(Context(source=source, filename=path))


def apply(source: str, path: str, mutation_id) -> str:
    from mutmut import Context, mutate

    mutated, count = mutate(Context(source=source, filename=path, mutation_id=mutation_id))
    assert count == 1, (path, mutation_id)
    return mutated


def spread(tests: list[str], times: dict[str, float]) -> list[str]:
    """Fastest first within each test file, taking files in turn: a capped run still reaches the
    slower files that check what a line produces (goldens, executions), not only quick unit tests."""
    by_file: dict[str, list[str]] = {}
    for test in sorted(tests, key=lambda t: (times.get(t, 999.0), t)):
        by_file.setdefault(test.split("::")[0], []).append(test)
    out: list[str] = []
    while any(by_file.values()):
        for queue in by_file.values():
            if queue:
                out.append(queue.pop(0))
    return out


def sample_size(count: int, fraction: float, minimum: int) -> int:
    return min(count, max(minimum, round(count * fraction)))


def run(args) -> None:
    with open(args.map) as handle:
        cmap = json.load(handle)
    times = cmap["times"]
    rng = random.Random(args.seed)
    plan: dict[str, list] = {}
    totals: dict[str, int] = {}
    for path in args.only or TARGETS:
        with open(os.path.join(ROOT, path)) as handle:
            source = handle.read()
        every = mutants(source, path)
        totals[path] = len(every)
        picked = sorted(rng.sample(range(len(every)), sample_size(len(every), args.fraction, args.minimum)))
        statements = statement_lines(source)
        covered = {int(line): tests for line, tests in cmap["lines"].get(path, {}).items()}
        at_import = import_time_lines(source)
        module_tests = sorted({t for tests in covered.values() for t in tests})
        entries = []
        for index in picked:
            mid = every[index]
            line = mid.line_number + 1
            if line in at_import:
                using = at_import[line]
                tests = (sorted({t for ln in using for t in covered.get(ln, [])}) if using else []) or module_tests
            else:
                tests = sorted({t for ln in statements.get(line, [line]) for t in covered.get(ln, [])})
            tests = spread(tests, times)
            entries.append((path, source, mid, line, tests))
        plan[path] = entries
    # round robin over modules, so a partial run has every module in it
    queue = []
    while any(plan.values()):
        for path in list(plan):
            if plan[path]:
                queue.append(plan[path].pop(0))
    print(f"{len(queue)} mutants sampled of {sum(totals.values())}", flush=True)
    results: list[dict] = []
    if args.resume:
        # keep what a stopped run decided for good (a survivor may have been judged by fewer tests)
        with open(args.out) as handle:
            results = [r for r in json.load(handle)["results"] if r["outcome"] in ("killed", "not covered")
                       or (r["outcome"] == "survived" and r.get("ran", 0) >= min(r["tests"], args.max_tests))]
        done = {(r["module"], r["line"], r["index"]) for r in results}
        queue = [q for q in queue if (q[0], q[3], q[2].index) not in done]
        print(f"resuming: {len(done)} decided, {len(queue)} to run", flush=True)
    elif args.confirm:
        # second pass: survivors of the capped first pass, against ALL the tests covering them
        with open(args.out) as handle:
            results = json.load(handle)["results"]
        again = {(r["module"], r["line"], r["index"]) for r in results
                 if r["outcome"] == "survived" and r.get("ran", 0) < r["tests"]}
        results = [r for r in results if (r["module"], r["line"], r["index"]) not in again]
        queue = [q for q in queue if (q[0], q[3], q[2].index) in again]
        args.max_tests = 10 ** 6
        print(f"confirming {len(queue)} survivors with every covering test", flush=True)
    lock = threading.Lock()
    live: set = set()

    def record(entry: dict) -> None:
        with lock:
            results.append(entry)
            print(json.dumps(entry), flush=True)
            with open(args.out, "w") as handle:
                json.dump({"seed": args.seed, "fraction": args.fraction, "minimum": args.minimum,
                           "timeout": args.timeout, "totals": totals, "results": results}, handle, indent=1)

    def worker(copy_to: str) -> None:
        make_copy(copy_to)
        env = dict(os.environ, PYTHONPATH=copy_to, PYTHONDONTWRITEBYTECODE="1")
        env.pop("COVERAGE_PROCESS_START", None)
        while True:
            with lock:
                if not queue:
                    return
                path, source, mid, line, tests = queue.pop(0)
            entry = {"module": path, "line": line, "index": mid.index, "source": mid.line.strip(),
                     "of": totals[path], "tests": len(tests)}
            if not tests:
                record({**entry, "outcome": "not covered", "seconds": 0})
                continue
            target = os.path.join(copy_to, path)
            with open(target, "w") as handle:
                handle.write(apply(source, path, mid))
            began = time.monotonic()
            ran = tests[:args.max_tests]
            entry["ran"] = len(ran)
            proc = subprocess.Popen([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                     "-p", "no:randomly", "-p", "no:xdist", *ran], cwd=copy_to, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)
            live.add(proc)
            try:
                out, _ = proc.communicate(timeout=args.timeout)
                outcome = {0: "survived", 1: "killed"}.get(proc.returncode, f"error {proc.returncode}")
                if outcome == "killed":
                    failed = [ln for ln in out.splitlines() if ln.startswith(("FAILED", "ERROR"))]
                    entry["by"] = failed[0][:200] if failed else ""
                elif outcome.startswith("error"):
                    entry["detail"] = out[-400:]
            except subprocess.TimeoutExpired:
                outcome = "timeout"
                os.killpg(proc.pid, signal.SIGKILL)   # the test's servers and tasks too
                proc.communicate()
            finally:
                live.discard(proc)
                with open(target, "w") as handle:
                    handle.write(source)
            record({**entry, "outcome": outcome, "seconds": round(time.monotonic() - began, 1)})

    def stop(signum, frame) -> None:
        for proc in list(live):
            os.killpg(proc.pid, signal.SIGKILL)
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)
    threads = [threading.Thread(target=worker, args=(f"{args.copy_to}-{n}",)) for n in range(args.jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def table(args) -> None:
    """The per-module table of tests/README.md from a results file (with its `triage` notes)."""
    with open(args.out) as handle:
        data = json.load(handle)

    def killed_after(r: dict) -> bool:
        return r["outcome"] in ("killed", "timeout", "error -9") or r.get("triage", "").startswith("killed")

    print("| module | mutants | sampled | killed | survived | not covered | timeout | invalid | raw | after kills |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    sums = [0] * 9
    for path in TARGETS:
        rows = [r for r in data["results"] if r["module"] == path]
        valid = [r for r in rows if not r.get("triage", "").startswith("invalid")]
        raw = sum(r["outcome"] in ("killed", "timeout", "error -9") for r in valid)
        after = sum(killed_after(r) for r in valid)
        counts = [data["totals"][path], len(rows), sum(r["outcome"] == "killed" for r in rows),
                  sum(r["outcome"] == "survived" for r in rows), sum(r["outcome"] == "not covered" for r in rows),
                  sum(r["outcome"] == "timeout" for r in rows), len(rows) - len(valid), raw, after]
        sums = [x + y for x, y in zip(sums, counts)]
        name = path.replace("__init__", "\\_\\_init\\_\\_")
        cells = [str(c) for c in counts[:7]] + [f"{c}/{len(valid)}" for c in counts[7:]]
        print(f"| {name} | " + " | ".join(cells) + " |")
    valid_total = sums[1] - sums[6]
    cells = [str(c) for c in sums[:7]] + [f"{c}/{valid_total} = {100 * c / valid_total:.1f}%" for c in sums[7:]]
    print("| **total** | " + " | ".join(f"**{c}**" for c in cells) + " |")


def check(args) -> None:
    """Run some tests against one mutant (module, line, index as in the results), in a fresh copy:
    how a new test is shown to kill its mutant."""
    with open(os.path.join(ROOT, args.module)) as handle:
        source = handle.read()
    mid = next(m for m in mutants(source, args.module) if m.line_number + 1 == args.line and m.index == args.index)
    make_copy(args.copy_to)
    mutated = apply(source, args.module, mid)
    with open(os.path.join(args.copy_to, args.module), "w") as handle:
        handle.write(mutated)
    changed = [ln for ln in mutated.splitlines() if ln not in source.splitlines()]
    print("mutant:", changed, flush=True)
    env = dict(os.environ, PYTHONPATH=args.copy_to, PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           *args.tests], cwd=args.copy_to, env=env)
    print("KILLED" if done.returncode == 1 else "SURVIVED" if done.returncode == 0 else f"exit {done.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("cover")
    one.add_argument("--copy-to", default="/tmp/flowc-mutation-cover")
    one.add_argument("--map", default="/tmp/flowc-mutation-map.json")
    one.add_argument("--jobs", type=int, default=2)
    one.add_argument("--tests", nargs="*", default=None)
    two = sub.add_parser("run")
    two.add_argument("--copy-to", default="/tmp/flowc-mutation-copy")
    two.add_argument("--map", default="/tmp/flowc-mutation-map.json")
    two.add_argument("--out", default="/tmp/flowc-mutation.json")
    two.add_argument("--seed", type=int, default=20)
    two.add_argument("--fraction", type=float, default=0.07, help="share of each module's mutants sampled")
    two.add_argument("--minimum", type=int, default=12, help="at least this many per module")
    two.add_argument("--timeout", type=float, default=240)
    two.add_argument("--max-tests", type=int, default=40, help="covering tests run per mutant, fastest first")
    two.add_argument("--jobs", type=int, default=2)
    two.add_argument("--only", nargs="*", default=None)
    two.add_argument("--resume", action="store_true", help="keep --out's decided mutants")
    two.add_argument("--confirm", action="store_true",
                     help="re-run --out's survivors that ran fewer tests than cover them, with all of them")
    sub.add_parser("table").add_argument("--out", default="/tmp/flowc-mutation.json")
    three = sub.add_parser("check")
    three.add_argument("module")
    three.add_argument("line", type=int)
    three.add_argument("index", type=int)
    three.add_argument("tests", nargs="+")
    three.add_argument("--copy-to", default="/tmp/flowc-mutation-check")
    args = parser.parse_args()
    {"cover": cover, "run": run, "check": check, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
