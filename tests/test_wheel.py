"""The built wheel, installed into a fresh venv, compiles a @batch flow for every target from
outside the repository (nothing found through the checkout), and ships every declared data file."""
from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "tests" / "flows" / "shared" / "valid" / "hybrid_cloud.py"     # @batch and @kubernetes steps


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # a copy of what the build reads, without build leftovers (egg-info, build/), so the wheel
    # holds only what setup.py and pyproject.toml declare
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("compiler", "runtime_shim", "templates"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (found,) = out.glob("flowc-*.whl")
    return found


def test_declared_package_data_is_in_the_wheel(wheel):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    names = zipfile.ZipFile(wheel).namelist()
    for package, patterns in declared.items():
        for pattern in patterns:
            glob = f"{package.replace('.', '/')}/{pattern}"
            assert fnmatch.filter(names, glob), f"{glob} is declared but not in the wheel"
    assert "compiler/py.typed" in names and "flowc_templates/bootstrap.py.j2" in names
    sources = {p.relative_to(ROOT).as_posix() for top in ("compiler", "runtime_shim") for p in (ROOT / top).rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))[:5]


def test_installed_wheel_compiles_a_batch_flow_for_every_target(wheel, tmp_path):
    from compiler.targets import REGISTRY

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                             capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stderr
    # third-party dependencies: the test venv's, appended after the wheel (a path line in a .pth
    # runs no .pth of that directory, so the checkout's editable install stays out)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(FLOW, work / FLOW.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "PYTHON"))}
    env.update(FLOWC_DATASTORE="s3://bucket/root", FLOWC_BATCH_QUEUE="q", FLOWC_EKS_CLUSTER="eks")
    where = subprocess.run([str(python), "-c", "import compiler; print(compiler.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where
    template = (ROOT / "templates" / "bootstrap.py.j2").read_text().splitlines()
    bootstrap = "\n".join(line for line in template if line.strip() and not line.lstrip().startswith("#")) + "\n"
    for entry in REGISTRY:
        out_dir = tmp_path / entry.name
        result = subprocess.run([str(venv / "bin" / "flowc"), "compile", FLOW.name, "--target", entry.name,
                                 "-o", str(out_dir)], cwd=work, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (entry.name, result.stderr)
        definitions = _batch_job_definitions(out_dir)
        assert definitions, entry.name
        for definition in definitions:
            env_of = {e["name"]: e["value"] for e in definition["containerProperties"]["environment"]}
            assert env_of["FLOWC_BOOTSTRAP"] == bootstrap, entry.name


def _batch_job_definitions(out_dir: Path) -> list[dict]:
    """The Batch job definitions a compile wrote: Step Functions' *.jobdef.json, or the ones Argo's
    @batch steps pass to batch-submit."""
    import json

    import yaml

    found = [json.loads(p.read_text()) for p in out_dir.glob("*.jobdef.json")]
    for path in out_dir.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            for template in (doc or {}).get("spec", {}).get("templates", []):
                args = template.get("container", {}).get("args", [])
                if "--job-definition" in args:
                    found.append(json.loads(args[args.index("--job-definition") + 1]))
    return found
