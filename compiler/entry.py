"""The `flowc` console script: a replay cache in front of the CLI (compiler/cli.py).

`flowc compile`, `check` and `graph` are pure: their output is a function of flowc itself, the
command line, the working directory, the environment and the files they read. A warm compile of
an unchanged flow therefore need not import click, yaml or libcst at all: this module (stdlib
only: os, sys, hashlib, json, base64) looks up an entry keyed by

  - flowc's identity: its version and the size and mtime of every file of compiler/,
    runtime_shim/ and the templates, the Python version and executable, and the files of the
    installed click, yaml and libcst packages;
  - the exact argv, the cwd, whether stdout/stderr are terminals (and their width);
  - the environment, every variable except the shell's bookkeeping ones in IGNORED_ENV.

The entry lists every file the run that made it looked at (read: its sha256; stat-ed: its kind;
listed: the names in it; a symlink read: its target). A hit re-checks each of them (an edited, created or deleted file is a
miss) and replays the run: the files it wrote, its stdout and stderr bytes, its exit code.

The recording is done at the I/O layer during the miss run (open, stat, lstat, listdir,
scandir: what os.path.isfile, os.walk, glob and pathlib go through), not by each stage noting
its reads: a stage that forgets to note one read would be a wrong hit, and the stages read
through a dozen paths (flow, local modules, configs, pyproject.toml, package data globs, trigger
files, templates). A run that does anything the recording cannot replay (a subprocess, a socket,
a write outside the files it created) is not stored. Anything odd in an entry is a miss, never an
error. An entry names the files it writes: trust a shared cache directory as you trust the flowc
install itself. FLOWC_NO_CACHE=1 turns the replay cache off (and the analysis cache, unless --cache-dir
is given), FLOWC_NO_REPLAY=1 the replay cache only; it lives where the analysis cache lives
(--cache-dir, FLOWC_CACHE_DIR, $XDG_CACHE_HOME/flowc), under replay/.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

FORMAT = 1
PURE_COMMANDS = ("compile", "check", "graph")
# Variables a shell changes between two identical commands; nothing in flowc reads them.
IGNORED_ENV = frozenset(("_", "OLDPWD", "SHLVL", "PS1", "PS2", "PS4", "PROMPT_COMMAND", "HISTCMD"))
LIBRARIES = ("click", "yaml", "_yaml", "libcst")
MAX_ENTRIES = 500                   # past this many entries (or MAX_BYTES) a write drops the oldest half
MAX_BYTES = 256 * 1024 * 1024
STORED_EXITS = (0, 1, 2)            # 70 (internal error) and the like are never replayed


# ------------------------------------------------------------------------------ where
def cache_root(argv: list[str]) -> str | None:
    """The cache directory the command will use (compiler/frontend/cache.default_dir's rules,
    --cache-dir read from argv), or None when FLOWC_NO_CACHE turns caching off."""
    if any(os.environ.get(v, "") not in ("", "0") for v in ("FLOWC_NO_CACHE", "FLOWC_NO_REPLAY")):
        return None
    explicit = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--cache-dir" and i + 1 < len(argv):
            explicit = argv[i + 1]
        elif arg.startswith("--cache-dir="):
            explicit = arg[len("--cache-dir="):]
    if explicit:
        return explicit
    if os.environ.get("FLOWC_CACHE_DIR"):
        return os.environ["FLOWC_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "flowc")


# ------------------------------------------------------------------------------ flowc's identity
def _tree(root: str, out: list) -> None:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        out.append((root, None))
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                _tree(entry.path, out)
        else:
            try:
                st = entry.stat()
                out.append((entry.path, st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((entry.path, None))


def _library_files(name: str, out: list) -> None:
    """The installed package `name` as the import system would find it on sys.path (without
    importing it): the stat of its __init__.py and of its folder. Installing another version
    rewrites both."""
    for base in sys.path:
        d = os.path.join(base or ".", name)
        for probe in (os.path.join(d, "__init__.py"), d + ".py"):
            try:
                st = os.stat(probe)
            except OSError:
                continue
            try:
                dst = os.stat(d)
                out.append((probe, st.st_size, st.st_mtime_ns, dst.st_mtime_ns))
            except OSError:
                out.append((probe, st.st_size, st.st_mtime_ns))
            return
    out.append((name, "not found"))


def own_trees() -> list[str]:
    """compiler/, runtime_shim/ and the templates, wherever flowc is installed (a checkout or a
    wheel's site-packages)."""
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    return [here] + [os.path.join(top, n) for n in ("runtime_shim", "templates", "flowc_templates")
                     if os.path.isdir(os.path.join(top, n))]


def identity() -> str:
    import compiler

    parts: list = [FORMAT, compiler.__version__, sys.version, sys.executable, sys.implementation.cache_tag,
                   list(sys.path)]
    for tree in own_trees():
        _tree(tree, parts)
    for name in LIBRARIES:
        _library_files(name, parts)
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _terminal(fd: int) -> object:
    try:
        if os.isatty(fd):
            return list(os.get_terminal_size(fd))
    except OSError:
        pass
    return False


def entry_key(argv: list[str]) -> str:
    env = sorted((k, v) for k, v in os.environ.items() if k not in IGNORED_ENV)
    ident = json.dumps([identity(), argv, os.getcwd(), env, _terminal(1), _terminal(2)])
    return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()


# ------------------------------------------------------------------------------ what a path is now
def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _kind(path: str, follow: bool) -> str | None:
    import stat

    try:
        st = os.stat(path) if follow else os.lstat(path)
    except (OSError, ValueError):
        return None
    mode = st.st_mode
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else \
        "link" if stat.S_ISLNK(mode) else "other"


def _listing(path: str) -> list | None:
    """The entries of a directory with their kinds (a name that turns from a file into a
    directory changes what os.walk and glob see)."""
    try:
        with os.scandir(path) as it:
            return sorted([e.name, "link" if e.is_symlink() else "dir" if e.is_dir(follow_symlinks=False)
                           else "file" if e.is_file(follow_symlinks=False) else "other"] for e in it)
    except (OSError, ValueError):
        return None


def _link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except (OSError, ValueError):
        return None


def _fresh(inputs: dict) -> bool:
    for path, digest in inputs["read"]:
        if _digest(path) != digest:
            return False
    for path, follow, kind in inputs["stat"]:
        if _kind(path, follow) != kind:
            return False
    for path, names in inputs["list"]:
        if _listing(path) != names:
            return False
    for path, target in inputs["link"]:
        if _link(path) != target:
            return False
    return True


# ------------------------------------------------------------------------------ replay
def _entry_file(root: str, key: str) -> str:
    return os.path.join(root, "replay", key + ".json")


def load(root: str, key: str) -> dict | None:
    try:
        with open(_entry_file(root, key), "rb") as fh:
            entry = json.loads(fh.read())
        body = entry["body"]
        if entry.get("format") != FORMAT or entry.get("key") != key or \
                entry.get("sha256") != hashlib.sha256(body.encode("utf-8")).hexdigest():
            return None
        content = json.loads(body)
        if not _fresh(content["inputs"]):
            return None
        if not isinstance(content["exit"], int) or not all(isinstance(p, str) for p in content["dirs"]):
            return None
        return content
    except Exception:  # noqa: BLE001 - absent, truncated, corrupt or foreign: a miss
        return None


def replay(content: dict) -> int | None:
    """Write the recorded files, then stdout and stderr; the exit code, or None when the files
    cannot be written (the caller then runs the command, which reports why)."""
    import base64

    try:
        for d in content["dirs"]:
            os.makedirs(d, exist_ok=True)
        for path, data in content["files"]:
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(data))
    except Exception:  # noqa: BLE001
        return None
    for fd, key in ((1, "stdout"), (2, "stderr")):
        data = base64.b64decode(content[key])
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:         # a closed pipe (`flowc compile ... | head`): as the CLI, exit 1 quietly
            return 1
    return content["exit"]


def store(root: str, key: str, content: dict) -> None:
    body = json.dumps(content, separators=(",", ":"))
    entry = json.dumps({"format": FORMAT, "key": key,
                        "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(), "body": body})
    directory = os.path.join(root, "replay")
    try:
        os.makedirs(directory, exist_ok=True)
        from compiler.atomic import write_text

        write_text(_entry_file(root, key), entry, suffix=".json")
        _prune(directory)
    except OSError:
        pass


def _prune(directory: str) -> None:
    sizes = []
    for n in os.listdir(directory):
        if n.endswith(".json") and not n.startswith("."):
            try:
                st = os.stat(os.path.join(directory, n))
                sizes.append((st.st_mtime, st.st_size, n))
            except OSError:
                pass
    if len(sizes) <= MAX_ENTRIES and sum(s for _, s, _ in sizes) <= MAX_BYTES:
        return
    for _, _, n in sorted(sizes)[:max(1, len(sizes) // 2)]:
        try:
            os.unlink(os.path.join(directory, n))
        except OSError:
            pass


# ------------------------------------------------------------------------------ the front door
def main() -> None:
    argv = sys.argv[1:]
    try:
        root = cache_root(argv) if argv and argv[0] in PURE_COMMANDS else None
        key = entry_key(argv) if root is not None else ""
    except Exception:  # noqa: BLE001 - e.g. the cwd was deleted: the command says what is wrong
        root = None
    if root is None:
        return _run_cli()
    content = load(root, key)
    if content is not None:
        code = replay(content)
        if code is not None:
            sys.exit(code)
    from compiler import recording

    recorder = recording.Recorder(exclude=(root, *own_trees()))
    code = recorder.run(_run_cli)
    if code in STORED_EXITS and recorder.replayable():
        try:
            store(root, key, recorder.content(code))
        except Exception:  # noqa: BLE001 - an output vanished meanwhile: nothing stored, never an error
            pass
    sys.exit(code)


def _run_cli():
    from compiler.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    main()
