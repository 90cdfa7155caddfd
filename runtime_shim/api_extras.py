"""The rest of what flows import from `metaflow` inside their steps, beyond the flow API of
api.py: the version, the client classes (reading flowc's datastore), namespaces, `profile`,
`parallel_map`; and, for what flowc does not provide (`S3`, `Runner`, ...), a name that fails on
first use with "not supported by flowc: metaflow.NAME" instead of an AttributeError deep in a
step. runtime_shim/README.md has the table. Stdlib only.
"""
from __future__ import annotations

import contextlib
import sys
import time
import types

from runtime_shim.api import MetaflowException, current

VERSION = "2.19.0+flowc"      # what get_version() answers: the Metaflow API level flowc follows
_NAMESPACE: list = [None]


class NotSupportedByFlowc(MetaflowException):
    headline = "Not supported by flowc"


def not_supported(name: str) -> NotSupportedByFlowc:
    return NotSupportedByFlowc("not supported by flowc: metaflow.%s (runtime_shim/README.md lists what is)" % name)


class Unsupported:
    """A `metaflow` name flowc does not provide. Used as a decorator (`@name`, `@name(...)`) it
    leaves the function alone, as unknown decorators always did (`flowc check` warns, FC204);
    any other use (an attribute, `with`, iteration, a value) raises NotSupportedByFlowc."""

    def __init__(self, name: str, called: bool = False):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_called", called)

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and (callable(args[0]) or isinstance(args[0], type)):
            return args[0]
        if self._called:
            raise not_supported(self._name)
        return Unsupported(self._name, called=True)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise not_supported("%s.%s" % (self._name, attr))

    def __enter__(self):
        raise not_supported(self._name)

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        raise not_supported(self._name)

    def __bool__(self):
        raise not_supported(self._name)

    def __repr__(self):
        return "<not supported by flowc: metaflow.%s>" % self._name


class _UnsupportedBase:
    """A base class flowc cannot honour (FlowMutator, StepMutator): subclassing it fails at once."""

    _flowc_name = ""

    def __init_subclass__(cls, **kwargs):
        if _UnsupportedBase not in cls.__bases__:     # the flow's own subclass, not FlowMutator itself
            raise not_supported(cls._flowc_name)


def _unsupported_base(name: str) -> type:
    return type(name, (_UnsupportedBase,), {"_flowc_name": name})


# --- version ----------------------------------------------------------------------------------

def get_version(public: bool = False) -> str:
    return VERSION


metaflow_version = types.ModuleType("metaflow.metaflow_version")
metaflow_version.get_version = get_version         # type: ignore[attr-defined]


# --- the client, reading the datastore of the running task ------------------------------------

def _datastore():
    return current.__dict__.get("_datastore")


def _client():
    from runtime_shim import client

    return client


def Flow(name, datastore=None):          # noqa: N802 - Metaflow's class names
    return _client().Flow(name, datastore=datastore or _datastore())


def Run(pathspec, datastore=None):       # noqa: N802
    return _client().Run(pathspec, datastore=datastore or _datastore())


def Step(pathspec, datastore=None):      # noqa: N802
    return _client().Step(pathspec, datastore=datastore or _datastore())


def Task(pathspec, datastore=None):      # noqa: N802
    return _client().Task(pathspec, datastore=datastore or _datastore())


def namespace(ns):
    """Accepted and remembered; flowc's client reads every run of the datastore (no namespaces)."""
    _NAMESPACE[0] = ns
    return ns


def get_namespace():
    return _NAMESPACE[0]


def default_namespace():
    _NAMESPACE[0] = current.namespace
    return _NAMESPACE[0]


def get_metadata():
    return "flowc@%s" % (_datastore() or "local")


def metadata(ms):
    return get_metadata()


def default_metadata():
    return get_metadata()


# --- helpers used inside steps ------------------------------------------------------------------

@contextlib.contextmanager
def profile(label, stats_dict=None):
    """Time a block: into stats_dict[label] (ms) when given, else printed, as Metaflow does."""
    start = time.time()
    try:
        yield
    finally:
        took = int((time.time() - start) * 1000)
        if stats_dict is None:
            print("PROFILE: %s %dms" % (label, took))
        else:
            stats_dict[label] = took


def parallel_imap_unordered(func, iterable, max_parallel=None, dir=None):   # noqa: A002 - Metaflow's name
    """Results as they finish. Threads, not forked processes: same results, less CPU parallelism
    for pure-Python work (Metaflow forks)."""
    import os
    from concurrent.futures import ThreadPoolExecutor, as_completed

    workers = max_parallel or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(func, item) for item in iterable]
        for future in as_completed(futures):
            yield future.result()


def parallel_map(func, iterable, max_parallel=None, dir=None):   # noqa: A002
    """[func(x) for x in iterable], in order, up to max_parallel at once (threads)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    items = list(iterable)
    workers = max_parallel or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items) or 1))) as pool:
        return list(pool.map(func, items))


# --- exceptions Metaflow's client raises ------------------------------------------------------

class MetaflowNotFound(MetaflowException):
    headline = "Object not found"


class MetaflowNamespaceMismatch(MetaflowException):
    headline = "Object not in the current namespace"


class MetaflowInternalError(MetaflowException):
    headline = "Internal error"


PROVIDED = ("metaflow_version", "get_version", "Flow", "Run", "Step", "Task", "namespace", "get_namespace",
            "default_namespace", "get_metadata", "metadata", "default_metadata", "profile", "parallel_map",
            "parallel_imap_unordered", "MetaflowNotFound", "MetaflowNamespaceMismatch", "MetaflowInternalError")
# Names real flows import that flowc does not provide: a clear error on first use.
UNSUPPORTED = ("S3", "DataArtifact", "Metaflow", "Runner", "NBRunner", "Deployer", "NBDeployer",
               "load_model", "Checkpoint")
UNSUPPORTED_BASES = ("FlowMutator", "StepMutator")
# metaflow.<sub> modules flows import from, and what they hold here.
SUBMODULES = {
    "metaflow.metaflow_version": ("get_version",),
    "metaflow.exception": ("MetaflowException", "MetaflowNotFound", "MetaflowNamespaceMismatch",
                           "MetaflowInternalError", "MetaflowExceptionWrapper", "TimeoutException"),
    "metaflow.client": ("Flow", "Run", "Step", "Task", "namespace", "get_namespace", "default_namespace",
                        "get_metadata", "metadata", "default_metadata"),
    "metaflow.client.core": ("Flow", "Run", "Step", "Task", "namespace", "get_namespace", "default_namespace"),
}


def names() -> dict:
    """Every name this module adds to `metaflow`."""
    this = sys.modules[__name__]
    out = {name: getattr(this, name) for name in PROVIDED}
    out.update({name: Unsupported(name) for name in UNSUPPORTED})
    out.update({name: _unsupported_base(name) for name in UNSUPPORTED_BASES})
    out["__version__"] = VERSION
    return out
