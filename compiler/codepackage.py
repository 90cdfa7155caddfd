"""The code package: one deterministic zip with the runtime, the flow and its local files.

Layout (docs/runtime-contract.md):

    runtime_shim/...        from the installed runtime_shim package (.py files only)
    flow/<flow file>        the user's flow
    flow/<local modules>    sibling modules / packages the flow imports (discovered with `ast`,
                            plus any relative paths the caller lists)
    flow/<included files>   files matching the caller's include globs (relative to the flow dir)
    flowc.json              the runtime spec bytes given by the caller

Deterministic: entries sorted, date_time 1980-01-01 00:00:00, permissions 0o644, no extra
attributes, DEFLATE level 6. Same inputs -> same bytes -> same sha256.
"""
from __future__ import annotations

import ast
import functools
import glob
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", ".flowc", ".metaflow", "node_modules",
              ".mypy_cache", ".pytest_cache"}


def runtime_files() -> dict[str, str]:
    """archive name -> absolute path, for the runtime_shim package's .py files."""
    from importlib.util import find_spec

    spec = find_spec("runtime_shim")            # its folder, without importing it
    assert spec is not None and spec.origin is not None
    root = os.path.dirname(os.path.abspath(spec.origin))
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for f in files:
            if f.endswith(".py"):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, os.path.dirname(root)).replace(os.sep, "/")
                out[rel] = full
    return out


PYC_CACHE_DIR: str | None = None     # set by pipeline.compile_file from --cache-dir: pycs kept across runs


@functools.lru_cache(maxsize=1)
def _installed_pyc_dir() -> str | None:
    """runtime_shim's own __pycache__ (looked up once: every runtime module of every package asks)."""
    from importlib.util import find_spec

    spec = find_spec("runtime_shim")
    if spec is None or spec.origin is None:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(spec.origin)), "__pycache__", "flowc-package")


def _pyc_dirs() -> list[str]:
    """Where a runtime pyc may be kept: beside the installed runtime (like Python's own
    __pycache__, a function of the installed sources: it survives an emptied cache, as flowc's own
    bytecode does), then PYC_CACHE_DIR."""
    installed = _installed_pyc_dir()
    dirs = [installed] if installed else []
    if PYC_CACHE_DIR:
        dirs.append(os.path.join(PYC_CACHE_DIR, "pyc"))
    return dirs


def _pyc(name: str, source: bytes) -> bytes:
    """_compile_pyc, also kept on disk (_pyc_dirs): a compile then skips compiling the runtime,
    about a third of a cold compile's work. An entry is used only when its header is the one this
    source gives (magic number, unchecked-hash flag, source hash) and its code object unmarshals
    with the expected name; anything else is recompiled and rewritten."""
    import importlib.util
    import marshal

    header = importlib.util.MAGIC_NUMBER + b"\x01\x00\x00\x00" + importlib.util.source_hash(source)
    key = hashlib.sha256(header + name.encode("utf-8") + b"\0" + source).hexdigest()
    dirs = _pyc_dirs()
    for directory in dirs:
        try:
            with open(os.path.join(directory, key + ".pyc"), "rb") as fh:
                data = fh.read()
            if data[:16] == header and getattr(marshal.loads(data[16:]), "co_filename", None) == name:
                return data
        except (OSError, ValueError, EOFError, TypeError):
            pass
    data = _compile_pyc(name, source)
    for directory in dirs:          # the first that can be written (an install may be read-only)
        try:
            import tempfile

            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, os.path.join(directory, key + ".pyc"))
            break
        except OSError:
            continue
    return data


@functools.lru_cache(maxsize=256)
def _compile_pyc(name: str, source: bytes) -> bytes:
    """Unchecked-hash pyc (PEP 552) of a runtime module, next to its source in the zip.

    zipimport cannot cache bytecode, so without this every task would compile the runtime anew.
    Deterministic (no timestamp); a Python with another magic number ignores it and compiles
    the .py instead. Cached by (name, source): compiling the runtime is most of the cost of a
    package, and a process that builds several (tests, `flowc run` after a compile) pays it once.
    """
    import importlib.util
    from importlib import _bootstrap_external

    code = compile(source, name, "exec", dont_inherit=True)
    # a private helper (stable since 3.7): no public API writes an unchecked-hash pyc
    to_pyc = _bootstrap_external._code_to_hash_pyc  # type: ignore[attr-defined]
    return bytes(to_pyc(code, importlib.util.source_hash(source), False))


def _module_paths(flow_dir: str, dotted: str) -> list[str]:
    """Relative paths (to flow_dir) for a top-level module or package name that lives there."""
    top = dotted.split(".")[0]
    out = []
    if os.path.isfile(os.path.join(flow_dir, top + ".py")):
        out.append(top + ".py")
    pkg = os.path.join(flow_dir, top)
    if os.path.isdir(pkg) and (os.path.isfile(os.path.join(pkg, "__init__.py"))
                               or any(f.endswith(".py") for f in os.listdir(pkg))):
        for dirpath, dirs, files in os.walk(pkg):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for f in files:
                if f.endswith(".py"):
                    out.append(os.path.relpath(os.path.join(dirpath, f), flow_dir))
    return out


def discover_local_modules(flow_path: str) -> list[str]:
    """Sibling .py modules and packages that the flow (transitively) imports, relative paths."""
    flow_dir = os.path.dirname(os.path.abspath(flow_path))
    found: set[str] = set()
    todo = [os.path.abspath(flow_path)]
    seen_files = set()
    while todo:
        path = todo.pop()
        if path in seen_files:
            continue
        seen_files.add(path)
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        names: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level and node.level > 0:
                    continue  # relative imports live inside a package we already include
                if node.module:
                    names.append(node.module)
        for name in names:
            for rel in _module_paths(flow_dir, name):
                rel = rel.replace(os.sep, "/")
                if rel not in found and os.path.abspath(os.path.join(flow_dir, rel)) != \
                        os.path.abspath(flow_path):
                    found.add(rel)
                    todo.append(os.path.join(flow_dir, rel))
    return sorted(found)


# Files that look like credentials are never packaged by a glob or by discovery, only when a
# package_include entry names them exactly (a leaked key in a code package is readable by every
# pod and job that runs the flow, and by whoever can read the datastore).
CREDENTIAL_NAMES = frozenset({".env", "credentials", ".netrc", ".pgpass", ".pypirc", ".npmrc",
                              ".git-credentials", ".htpasswd", "kubeconfig", "secrets.json",
                              "service-account.json", "service_account.json"})
CREDENTIAL_DIRS = frozenset({".aws", ".ssh", ".gnupg", ".kube", ".docker", ".azure", ".gcloud"})
CREDENTIAL_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".ppk",
                       ".asc", ".gpg")
CREDENTIAL_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env.")


def looks_like_credentials(rel: str) -> bool:
    """True for paths (relative, '/'-separated) that look like keys, tokens or cloud credentials."""
    parts = rel.split("/")
    name = parts[-1].lower()
    return (name in CREDENTIAL_NAMES or name.endswith(CREDENTIAL_SUFFIXES)
            or name.startswith(CREDENTIAL_PREFIXES) or any(p in CREDENTIAL_DIRS for p in parts[:-1]))


def _glob_files(flow_dir: str, patterns) -> tuple[list[str], list[str]]:
    """(files, credential-looking files skipped) matched by the include globs, relative paths."""
    out, skipped = set(), set()
    for pat in patterns or ():
        explicit = not glob.has_magic(pat)
        for p in glob.glob(os.path.join(flow_dir, pat), recursive=True):
            for rel in _files_under(flow_dir, p):
                if looks_like_credentials(rel) and not (explicit and os.path.normpath(pat) == os.path.normpath(rel)):
                    skipped.add(rel)
                else:
                    out.add(rel)
    return sorted(out), sorted(skipped - out)


def _files_under(flow_dir: str, path: str) -> list[str]:
    """Relative '/'-paths of a file, or of the files in a directory, inside flow_dir."""
    paths = [path]
    if os.path.isdir(path):
        paths = []
        for dirpath, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            paths.extend(os.path.join(dirpath, f) for f in sorted(files))
    out = []
    real_dir = os.path.realpath(flow_dir)
    for p in paths:
        rel = os.path.relpath(p, flow_dir)
        if rel.startswith("..") or os.path.isabs(rel) or not os.path.isfile(p):
            continue
        if os.path.commonpath([real_dir, os.path.realpath(p)]) != real_dir:
            continue     # a link out of the flow's folder: never publish host files
        if any(part in _SKIP_DIRS for part in rel.split(os.sep)) or rel.endswith((".pyc", ".pyo")):
            continue
        out.append(rel.replace(os.sep, "/"))
    return out


@dataclass(frozen=True)
class PackageNote:
    """Something the package rule decided that the user should hear about (a warning)."""

    code: str                  # FC010 missing data file, FC011 credential-looking file skipped
    path: str                  # the source file the note is about
    line: int
    col: int
    message: str


@dataclass(frozen=True)
class PackageContents:
    """What a flow's code package holds besides the runtime: relative '/'-paths under flow/."""

    files: tuple[str, ...]
    notes: tuple[PackageNote, ...] = ()


def package_contents(flow_path: str, local_modules=(), include_globs=(), named_files=()) -> PackageContents:
    """THE rule for what a code package holds, for `flowc run`, `compile` and `deploy` alike:
    the flow file, the local modules it imports, the files its code opens by a literal relative
    path (datafiles.py), and the files matched by `package_include`; never credential-looking
    files unless an include names them exactly. `named_files`: paths the flow names itself
    (IncludeFile defaults), packaged as given when they are inside the flow's folder, so a run
    started with no arguments (a schedule, the console) reads the same default on every engine.
    Notes: data files that are not there (FC010) and credential-looking files skipped (FC011)."""
    from compiler import datafiles

    flow_path = os.path.abspath(flow_path)
    flow_dir = os.path.dirname(flow_path)
    modules: set[str] = set()
    for module in set(local_modules or ()) | set(discover_local_modules(flow_path)):
        # a package the flow imports travels whole: the files of its top directory (its data
        # files too, which its code may read beside its __file__), a credential-looking one aside
        top = module.replace(os.sep, "/").split("/")[0]
        folder = os.path.join(flow_dir, top) if os.path.isdir(os.path.join(flow_dir, top)) else \
            os.path.join(flow_dir, module)
        modules.update(rel for rel in _files_under(flow_dir, folder)
                       if rel.endswith(".py") or not looks_like_credentials(rel))
    rels = {os.path.basename(flow_path), *modules}
    notes: list[PackageNote] = []
    included, skipped = _glob_files(flow_dir, include_globs)
    rels.update(included)
    for named in named_files:
        rels.update(_files_under(flow_dir, os.path.join(flow_dir, named)))
    where: dict[str, tuple[str, int, int]] = {}      # credential-looking file -> where the code reads it
    for source in sorted({os.path.basename(flow_path), *modules}):
        source_path = os.path.join(flow_dir, source)
        for ref in datafiles.literal_paths(source_path):
            # a task runs in the flow's folder; a path joined to `__file__` is beside its module
            pattern = os.path.join(os.path.dirname(source_path) if ref.beside_source else flow_dir, ref.path)
            targets = sorted(glob.glob(pattern)) if ref.is_glob else [pattern] if os.path.exists(pattern) else []
            if not targets:
                notes.append(PackageNote("FC010", source_path, ref.line, ref.col,
                                         f"'{ref.path}' is read by the flow but no such file is beside it: "
                                         "a task will not find it (add the file, or list it in package_include)"))
            for target in targets:
                for rel in _files_under(flow_dir, target):
                    if looks_like_credentials(rel):
                        where.setdefault(rel, (source_path, ref.line, ref.col))
                    else:
                        rels.add(rel)
    for rel in skipped:
        where.setdefault(rel, (flow_path, 1, 1))     # matched by a package_include glob
    for rel in sorted(set(where) - rels):
        notes.append(PackageNote("FC011", *where[rel],
                                 f"'{rel}' looks like credentials and is not packaged "
                                 "(name it exactly in package_include to package it anyway)"))
    return PackageContents(tuple(sorted(r.replace(os.sep, "/") for r in rels)), tuple(notes))


def build(flow_path: str, spec_bytes: bytes, local_modules=(), include_globs=(),
          contents: PackageContents | None = None) -> tuple[bytes, str]:
    """Build the code package. Returns (zip bytes, sha256 hex)."""
    flow_path = os.path.abspath(flow_path)
    flow_dir = os.path.dirname(flow_path)
    if contents is None:
        contents = package_contents(flow_path, local_modules, include_globs)
    entries: dict[str, bytes] = {}
    for name, full in runtime_files().items():
        with open(full, "rb") as f:
            entries[name] = f.read()
        entries[name + "c"] = _pyc(name, entries[name])
    for rel in contents.files:
        with open(os.path.join(flow_dir, rel), "rb") as f:
            entries["flow/" + rel] = f.read()
    entries["flowc.json"] = spec_bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.create_system = 3
            z.writestr(info, entries[name], compresslevel=6)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CodePackage:
    data: bytes
    sha256: str

    @property
    def name(self) -> str:
        return "%s.zip" % self.sha256


def package_for_spec(flow_path: str, spec: dict, spec_bytes: bytes, include_globs=(),
                     local_modules=()) -> tuple[CodePackage, tuple[PackageNote, ...]]:
    """The package of a flow with its runtime spec, for `flowc run`, `compile` and `deploy` alike:
    the spec's IncludeFile defaults are named files; the notes are the rule's warnings."""
    named = [str(p["default"]) for p in spec.get("parameters", [])
             if p.get("kind") == "include_file" and p.get("has_default") and p.get("default")]
    contents = package_contents(flow_path, local_modules, include_globs, named)
    return build_package(flow_path, spec_bytes, contents=contents), contents.notes


def build_package(flow_path: str, spec_bytes: bytes, local_modules=(), include_globs=(),
                  contents: PackageContents | None = None) -> CodePackage:
    """Like build(), as a CodePackage (data, sha256)."""
    data, sha = build(flow_path, spec_bytes, local_modules, include_globs, contents)
    return CodePackage(data, sha)
