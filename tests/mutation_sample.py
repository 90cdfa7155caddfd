"""A time-boxed mutation score: mutmut's mutation operators (mutmut 2.5.1, `pip install mutmut==2.5.1`;
not a test dependency), over a seeded random sample of each module's mutants, each run against
that module's relevant tests only. Used for tests/README.md ("Mutation score").

    python -m tests.mutation_sample --per-module 12 --seed 20 --out /tmp/mutation.json

It works on a COPY of the checkout (--copy-to), so the checkout is never mutated: each mutant is
written into the copy, the module's tests run there (cwd and PYTHONPATH = the copy, so subprocess
tasks and `python -m runtime_shim` import the mutant too), and the original is restored. A mutant
is killed when the tests fail or time out (--timeout per mutant), survives when they pass.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# module -> the tests that exercise it (fast ones; the slow end-to-end runs are left out)
MODULES: dict[str, list[str]] = {
    "runtime_shim/datastore.py": ["tests/test_runtime_datastore.py", "tests/test_runtime_s3.py"],
    "runtime_shim/s3lite.py": ["tests/test_runtime_s3lite.py", "tests/test_runtime_s3.py"],
    "runtime_shim/task.py": ["tests/test_runtime_api.py"],
    "runtime_shim/secrets.py": ["tests/test_secrets_runtime.py"],
    "compiler/runner/backends/__init__.py": ["tests/test_hybrid_manifests.py", "tests/test_k8s_backend_errors.py"],
    "compiler/runner/backends/batch.py": ["tests/test_hybrid_manifests.py", "tests/test_hybrid_runs.py"],
    "compiler/runner/backends/kubernetes.py": ["tests/test_hybrid_manifests.py", "tests/test_k8s_backend_errors.py"],
    **{f"compiler/targets/argo/{m}.py": ["tests/argo/test_emit.py", "tests/argo/test_names.py", "tests/argo/test_refusals.py"]
       for m in ("__init__", "arguments", "check", "cron", "dag", "names", "resources", "templates")},
    **{f"compiler/targets/stepfunctions/{m}.py": ["tests/stepfunctions/test_sfn_emit.py", "tests/test_ir_targets_agree.py"]
       for m in ("__init__", "asl", "check", "common", "eks")},
}


def mutants(path: str) -> list:
    from mutmut import Context, list_mutations

    with open(os.path.join(ROOT, path)) as handle:
        source = handle.read()
    return list_mutations(Context(source=source, filename=path))


def apply(source: str, path: str, mutation_id) -> str:
    from mutmut import Context, mutate

    mutated, count = mutate(Context(source=source, filename=path, mutation_id=mutation_id))
    assert count == 1, (path, mutation_id)
    return mutated


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-module", type=int, default=12)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--copy-to", default="/tmp/flowc-mutation-copy")
    parser.add_argument("--out", default="/tmp/flowc-mutation.json")
    parser.add_argument("--only", nargs="*", default=None, help="module paths (default: all of MODULES)")
    args = parser.parse_args()
    shutil.rmtree(args.copy_to, ignore_errors=True)
    shutil.copytree(ROOT, args.copy_to, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "mutants",
                                                                      "__pycache__", ".pytest_cache"))
    os.symlink(os.path.join(ROOT, "node_modules"), os.path.join(args.copy_to, "node_modules"))
    env = dict(os.environ, PYTHONPATH=args.copy_to, PYTHONDONTWRITEBYTECODE="1")
    rng = random.Random(args.seed)
    results = []
    for path in args.only or sorted(MODULES):
        tests = [t for t in MODULES[path] if os.path.exists(os.path.join(ROOT, t))]
        every = mutants(path)
        sample = sorted(rng.sample(range(len(every)), min(args.per_module, len(every))))
        target = os.path.join(args.copy_to, path)
        with open(target) as handle:
            original = handle.read()
        for index in sample:
            mutation_id = every[index]
            with open(target, "w") as handle:
                handle.write(apply(original, path, mutation_id))
            began = time.monotonic()
            try:
                done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                       "-p", "no:randomly", *tests], cwd=args.copy_to, env=env,
                                      capture_output=True, text=True, timeout=args.timeout)
                outcome = "survived" if done.returncode == 0 else "killed"
            except subprocess.TimeoutExpired:
                outcome = "killed (timeout)"
            finally:
                with open(target, "w") as handle:
                    handle.write(original)
            results.append({"module": path, "line": mutation_id.line_number + 1, "source": mutation_id.line.strip(),
                            "index": mutation_id.index, "outcome": outcome, "of": len(every),
                            "seconds": round(time.monotonic() - began, 1)})
            print(json.dumps(results[-1]), flush=True)
            with open(args.out, "w") as handle:
                json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
