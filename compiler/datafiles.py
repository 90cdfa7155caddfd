"""Data files a flow reads by a literal relative path, found in its source with `ast`.

The code package must hold what the steps open, or a flow that passes `flowc run` beside its files
fails in a container (FileNotFoundError in an empty working directory). We never import the flow,
so we look for the common ways of reading a file by a path written in the source:

    open("US.data")   Path("a.json").read_text()   pd.read_csv("data/x.csv")   np.load("w.npy")
    open(os.path.join(os.path.dirname(__file__), "table.csv"))
    open(f"{country}.data")   open("%s.data" % c)   open("{}.data".format(c))   -> the glob *.data

A path built from values only known when the flow runs is not guessed at; `package_include` covers
those. Writes (`open(p, "w")`, `Path(p).write_text(...)`, `mkdir`) are not data to package.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

# Callables whose first argument (or path keyword) is a path that is read.
READERS = frozenset({
    "open", "Path", "PurePath", "PosixPath", "load", "loadtxt", "genfromtxt", "fromfile", "memmap",
    "read_csv", "read_parquet", "read_json", "read_table", "read_excel", "read_feather", "read_pickle",
    "read_orc", "read_hdf", "read_fwf", "read_sas", "read_stata", "read_spss", "read_xml", "read_text",
    "load_workbook", "imread", "load_dataset", "read_file", "TextIOWrapper",
})
PATH_KEYWORDS = ("file", "filepath_or_buffer", "path", "fname", "filename", "io", "path_or_buf")
# Methods that, called on Path(literal), write or create rather than read.
PATH_WRITERS = frozenset({"write_text", "write_bytes", "mkdir", "touch", "unlink", "rmdir", "rename",
                          "replace", "symlink_to", "hardlink_to", "chmod"})
_WRITE_MODE = re.compile(r"[wax]")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}|%[-#0 +]*\d*(?:\.\d+)?[sdrifx]")


@dataclass(frozen=True)
class DataRef:
    path: str          # relative path or glob, '/'-separated, as written (globs: '*' per unknown part)
    line: int
    col: int
    beside_source: bool = False      # joined to the source file's own folder (`__file__`), not the cwd

    @property
    def is_glob(self) -> bool:
        return "*" in self.path


def literal_paths(source_path: str) -> list[DataRef]:
    """Every data-file reference in one Python file (none if it cannot be read or parsed)."""
    try:
        with open(source_path, "rb") as f:
            tree = ast.parse(f.read(), source_path)
    except (OSError, SyntaxError, ValueError):
        return []
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found: dict[str, DataRef] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in READERS and not _writes(node, parents):
            arg = _path_argument(node)
            path = _path_text(arg) if arg is not None else None
            if path is not None and _plausible(path):
                found.setdefault(path, DataRef(path, node.lineno, node.col_offset + 1,
                                               arg is not None and "__file__" in ast.unparse(arg)))
    return sorted(found.values(), key=lambda r: (r.line, r.col, r.path))


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _path_argument(call: ast.Call) -> ast.AST | None:
    if call.args:
        return call.args[0]
    for kw in call.keywords:
        if kw.arg in PATH_KEYWORDS:
            return kw.value
    return None


def _writes(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> bool:
    """open(p, "w"), Path(p).write_text(...), Path(p).open("w") and the like."""
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if _callee(call) == "open" and isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return bool(_WRITE_MODE.search(mode.value))
    parent = parents.get(call)
    if isinstance(parent, ast.Attribute) and parent.value is call:
        if parent.attr in PATH_WRITERS:
            return True
        outer = parents.get(parent)
        if parent.attr == "open" and isinstance(outer, ast.Call) and outer.args:
            m = outer.args[0]
            return isinstance(m, ast.Constant) and isinstance(m.value, str) and bool(_WRITE_MODE.search(m.value))
    return False


def _path_text(node: ast.AST) -> str | None:
    """The path an expression names: a literal, a glob for a formatted string, a join of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "*"
                       for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = node.left
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            return _FORMAT_FIELD.sub("*", left.value)
    if isinstance(node, ast.Call) and _callee(node) == "format" and isinstance(node.func, ast.Attribute):
        base = node.func.value
        if isinstance(base, ast.Constant) and isinstance(base.value, str):
            return _FORMAT_FIELD.sub("*", base.value)
    if isinstance(node, ast.Call) and _callee(node) == "join" and node.args:
        # os.path.join(os.path.dirname(__file__), "a", "b"): the literal parts, relative to the flow
        parts = list(node.args)
        if _is_flow_dir(parts[0]):
            parts = parts[1:]
        texts = [_path_text(p) for p in parts]
        if parts and all(t is not None for t in texts):
            return "/".join(t for t in texts if t)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        # Path(__file__).parent / "x.csv"
        right = _path_text(node.right)
        if right is not None and _is_flow_dir(node.left):
            return right
    return None


def _is_flow_dir(node: ast.AST) -> bool:
    """os.path.dirname(__file__), os.path.dirname(os.path.abspath(__file__)), Path(__file__).parent."""
    text = ast.unparse(node)
    return "__file__" in text and ("dirname" in text or text.endswith(".parent"))


def _plausible(path: str) -> bool:
    """A relative path inside the flow's directory, specific enough to be a data file or folder."""
    if not path or "\n" in path or "\x00" in path or len(path) > 255 or "://" in path:
        return False
    if path.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:", path):
        return False
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return False
    # a glob must keep something literal in its last part ("*.data", not "*")
    return not ("*" in parts[-1] and not parts[-1].strip("*"))
