"""@pypi / @conda packages at task start, opt-in (FLOWC_INSTALL_PACKAGES=1 in the task's
environment): pip installs the step's packages once per machine into a directory named by their
hash (FLOWC_PACKAGE_CACHE, default <tmp>/flowc-packages/<sha256>), which goes first on sys.path.
Later tasks with the same packages and Python find the directory and install nothing. Without the
setting nothing happens: the image must carry the packages (FC217 says so at compile time).
@conda packages are installed with pip under the same names (no conda in the image)."""
import hashlib
import json
import os
import sys


def wanted():
    return os.environ.get("FLOWC_INSTALL_PACKAGES", "").lower() in ("1", "true", "yes")


def requirement(name, version):
    version = str(version or "").strip()
    if not version:
        return name
    return name + (version if version[0] in "<>=!~" else "==" + version)


def cache_dir(packages):
    import tempfile

    key = json.dumps([sorted(packages.items()), "%d.%d" % sys.version_info[:2]], sort_keys=True)
    root = os.environ.get("FLOWC_PACKAGE_CACHE") or os.path.join(tempfile.gettempdir(), "flowc-packages")
    return os.path.join(root, hashlib.sha256(key.encode("utf-8")).hexdigest()[:32])


def ensure(step_spec, log=None):
    """Install the step's packages if asked and not cached; put their directory on sys.path.
    Returns the directory, or None when nothing was asked."""
    packages = step_spec.get("packages") or {}
    if not packages or not wanted():
        return None
    import shutil
    import subprocess

    target = cache_dir(packages)
    if not os.path.isdir(target):
        work = "%s.tmp-%d" % (target, os.getpid())
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-input", "--target", work] + [requirement(n, v) for n, v in sorted(packages.items())]
        if log:
            log("installing %s into %s" % (", ".join(cmd[cmd.index(work) + 1:]), target))
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode:
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError("pip could not install the step's packages:\n" + proc.stdout[-2000:])
        try:
            os.rename(work, target)          # atomic: a concurrent task may have won the race
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    sys.path.insert(0, target)
    return target
