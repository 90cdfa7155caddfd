"""The subset of the `metaflow` module that flows use, installed as `metaflow` inside a task.

`install()` puts a module named `metaflow` (and a permissive importer for `metaflow.*`) into
sys.modules before the flow is imported, so a real Metaflow is never used even if installed.
Compute decorators do nothing here: the compiler reads them from the source, and the runtime
enforces @catch / @timeout / @retry from the runtime spec.
"""
from __future__ import annotations

import json
import sys
import types

from runtime_shim import configs
from runtime_shim.configs import ConfigValue  # noqa: F401  (metaflow.ConfigValue, see install())

__all__ = [
    "FlowSpec", "step", "Parameter", "JSONType", "IncludeFile", "Config", "current",
    "MetaflowException", "TimeoutException", "MetaflowExceptionWrapper",
]


class MetaflowException(Exception):
    headline = "Flow failed"


class TimeoutException(MetaflowException):
    headline = "@timeout"


class InvalidNextException(MetaflowException):
    """A bad self.next(): as in Metaflow, e.g. a foreach over zero items."""


class MergeArtifactsException(MetaflowException):
    headline = "Unable to merge artifacts"

    def __init__(self, msg, unhandled=()):
        super().__init__(msg)
        self.artifact_names = list(unhandled)


class MetaflowExceptionWrapper(Exception):
    """A picklable stand-in for a caught exception (what @catch stores in its `var`)."""

    def __init__(self, exc=None):
        if exc is None:
            super().__init__()
            self.type = self.message = self.stacktrace = ""
            return
        import traceback

        self.type = "%s.%s" % (type(exc).__module__, type(exc).__name__)
        self.message = str(exc)
        self.stacktrace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        super().__init__(self.type, self.message)

    def __reduce__(self):
        return (_rebuild_wrapper, (self.type, self.message, self.stacktrace))

    def __str__(self):
        return "%s: %s" % (self.type, self.message)

    def __repr__(self):
        return "MetaflowExceptionWrapper(%s)" % str(self)


def _rebuild_wrapper(type_, message, stacktrace):
    w = MetaflowExceptionWrapper()
    w.type, w.message, w.stacktrace = type_, message, stacktrace
    Exception.__init__(w, type_, message)
    return w


# ------------------------------------------------------------------------------------------
# current


class _Card(list):
    """A no-op stand-in for `current.card` (cards are not rendered by flowc)."""

    def __getitem__(self, key):
        if isinstance(key, str):
            return self
        return list.__getitem__(self, key)

    def refresh(self, *a, **k):
        pass

    def clear(self):
        del self[:]


_CREATED_DIRS: list = []   # removed by the task when it ends


class ParallelInfo:
    """`current.parallel` in the body of a `num_parallel` split (run locally: one host)."""

    def __init__(self, num_nodes, node_index):
        self.num_nodes = num_nodes
        self.node_index = node_index
        self.main_ip = "127.0.0.1"
        self.control_task_id = None

    def __repr__(self):
        return "ParallelInfo(num_nodes=%d, node_index=%d)" % (self.num_nodes, self.node_index)


class Current:
    def __init__(self):
        self._is_running = False
        self.flow_name = None
        self.run_id = None
        self.step_name = None
        self.task_id = None
        self.retry_count = 0
        self.origin_run_id = None
        self.namespace = None
        self.username = None
        self.parameter_names = []
        self.project_name = None
        self.branch_name = None
        self.project_flow_name = None
        self.is_production = False
        self.card = _Card()
        self.parallel = None

    def _set(self, **kw):
        self.__dict__.update(kw)
        self._is_running = True

    @property
    def is_running_flow(self):
        return self._is_running

    @property
    def pathspec(self):
        if not self._is_running:
            return None
        return "%s/%s/%s/%s" % (self.flow_name, self.run_id, self.step_name, self.task_id)

    @property
    def tempdir(self):
        if not _CREATED_DIRS:
            import tempfile

            _CREATED_DIRS.append(tempfile.mkdtemp(prefix="flowc-tmp-"))
        return _CREATED_DIRS[0]

    def get(self, name, default=None):
        return getattr(self, name, default)


current = Current()


# ------------------------------------------------------------------------------------------
# decorators


def step(f=None, *, start=False, end=False, **_ignored):
    """`@step`, `@step(start=True)`, `@step(end=True)`."""

    def mark(func):
        func.is_step = True
        func._flowc_step = True
        return func

    if f is None:
        return mark
    return mark(f)


def _noop_decorator(*args, **kwargs):
    """Works as `@deco` and as `@deco(...)`: returns the function or class unchanged."""
    if len(args) == 1 and not kwargs and (callable(args[0]) or isinstance(args[0], type)):
        return args[0]

    def apply(obj):
        return obj

    return apply


_DECORATORS = (
    "resources", "kubernetes", "batch", "retry", "catch", "timeout", "environment", "secrets",
    "card", "conda", "pypi", "parallel", "schedule", "project", "trigger", "trigger_on_finish",
    "conda_base", "pypi_base", "airflow_external_task_sensor", "exit_hook", "checkpoint", "model",
    "huggingface_hub", "nvidia", "nim", "ollama", "uv", "fast_bakery_internal",
)
for _name in _DECORATORS:
    globals()[_name] = _noop_decorator
__all__ += list(_DECORATORS)


# ------------------------------------------------------------------------------------------
# parameters


class _JSONTypeClass:
    name = "JSON"

    def __call__(self, value):
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def __repr__(self):
        return "JSONType"


JSONType = _JSONTypeClass()


class Parameter:
    """A run parameter: a read-only attribute of every step (its value is an artifact)."""

    kind = "parameter"

    def __init__(self, name, default=None, type=None, help=None, required=False, multiple=False,
                 separator=None, show_default=True, **kwargs):
        self.name = name
        self.default = default
        self.type = type
        self.help = help
        self.required = required
        self.multiple = multiple
        self.separator = separator
        self.kwargs = kwargs
        self.attr = None

    def __set_name__(self, owner, attr):
        self.attr = attr

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance._flowc_artifact(self.attr)

    def __set__(self, instance, value):
        raise AttributeError("parameter '%s' is read-only" % self.name)

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.name)


class IncludeFile(Parameter):
    kind = "include_file"

    def __init__(self, name, required=False, is_text=True, encoding="utf-8", help=None,
                 default=None, **kwargs):
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.is_text = is_text
        self.encoding = encoding


class Config(Parameter):
    """Its value was resolved by the compiler (runtime_shim.configs): `cfg.x` / `cfg["x"]` while the
    class body runs read it; in steps `self.cfg` is the stored artifact."""

    kind = "config"

    def __init__(self, name, default=None, default_value=None, help=None, required=False,
                 parser=None, plain=False, **kwargs):
        super().__init__(name, default=default, type=None, help=help, required=required, **kwargs)
        self.default_value = default_value
        self.parser = parser
        self.plain = plain

    def __getattr__(self, name):
        if name.startswith("_") or name in ("name", "default", "kwargs"):
            raise AttributeError(name)
        try:
            value = configs.lookup(self.name)
        except KeyError:
            raise AttributeError(name) from None
        return getattr(value, name)

    def __getitem__(self, key):
        return configs.lookup(self.name)[key]

    def keys(self):
        return configs.lookup(self.name).keys()


def config_expr(expr):
    return configs.evaluate(expr, sys._getframe(1).f_globals)


# ------------------------------------------------------------------------------------------
# FlowSpec


_MISSING = object()


class FlowSpec:
    """Base class of flows. A task creates one instance with `_flowc_init` (no __init__ run)."""

    _flowc_is_flowspec = True

    def __init__(self, *args, **kwargs):
        # `python flow.py run` under flowc's runtime: explain rather than run.
        raise MetaflowException("flowc runs flows with `flowc run FLOW.py`, not `python FLOW.py`")

    # -- set up by the task
    def _flowc_init(self, ctx, inherited, foreach_stack, inputs=None):
        d = self.__dict__
        d["_flowc_ctx"] = ctx                  # the task (loads blobs, knows the step)
        d["_flowc_inherited"] = dict(inherited)  # name -> manifest entry (sha, ...)
        d["_flowc_loaded"] = {}                # name -> sha of artifacts loaded from inherited
        d["_flowc_stack"] = list(foreach_stack)
        d["_flowc_transition"] = None
        d["_flowc_inputs"] = inputs

    def _flowc_artifact(self, name):
        d = self.__dict__
        if name in d:
            return d[name]
        entry = d.get("_flowc_inherited", {}).get(name)
        if entry is None:
            raise AttributeError("Flow %s has no attribute '%s'" % (type(self).__name__, name))
        value = d["_flowc_ctx"].load(entry["sha"])
        d[name] = value
        d["_flowc_loaded"][name] = entry["sha"]
        return value

    def __getattr__(self, name):
        # only called when normal lookup fails: an inherited artifact, loaded lazily
        if name.startswith("_flowc") or name.startswith("__"):
            raise AttributeError(name)
        return self._flowc_artifact(name)

    def __delattr__(self, name):
        self.__dict__.pop(name, None)
        self.__dict__.get("_flowc_inherited", {}).pop(name, None)

    @property
    def index(self):
        stack = self.__dict__.get("_flowc_stack")
        return stack[-1][0] if stack else None

    @property
    def input(self):
        stack = self.__dict__.get("_flowc_stack")
        return stack[-1][2] if stack else None

    def foreach_stack(self):
        return [tuple(f) for f in self.__dict__.get("_flowc_stack", [])]

    def next(self, *dsts, foreach=None, condition=None, num_parallel=None):
        if self.__dict__.get("_flowc_transition") is not None:
            raise MetaflowException("self.next() called more than once in step %s"
                                    % current.step_name)
        if foreach is not None:
            try:
                splits = len(self._flowc_artifact(foreach))
            except (AttributeError, TypeError):
                splits = None    # the task reports a missing or unsized foreach variable
            if splits == 0:      # Metaflow's words: a foreach over nothing is an error, not a no-op
                raise InvalidNextException("Foreach iterator over %s in step %s produced zero splits. "
                                           "Check your variable." % (foreach, current.step_name))
        names = []
        for dst in dsts:
            if isinstance(dst, dict):
                names.extend(getattr(v, "__name__", str(v)) for v in dst.values())
            else:
                names.append(getattr(dst, "__name__", str(dst)))
        self.__dict__["_flowc_transition"] = {
            "next": names, "foreach": foreach, "condition": condition,
            "num_parallel": num_parallel,
            "cases": {k: getattr(v, "__name__", str(v)) for d in dsts if isinstance(d, dict)
                      for k, v in d.items()},
        }

    def merge_artifacts(self, inputs, include=None, exclude=None):
        include = list(include or [])
        exclude = list(exclude or [])
        ctx = self.__dict__["_flowc_ctx"]
        if not ctx.is_join:
            raise MetaflowException("merge_artifacts can only be called in a join and step *%s* "
                                    "is not a join" % current.step_name)
        if include and exclude:
            raise MetaflowException(
                "`exclude` and `include` are mutually exclusive in merge_artifacts")
        to_merge = {}
        unresolved = []
        for inp in inputs:
            for var, entry in inp._flowc_artifacts.items():
                if var.startswith("_"):
                    continue
                if include:
                    if var not in include:
                        continue
                elif var in exclude:
                    continue
                if self._flowc_has(var):
                    continue
                prev = to_merge.setdefault(var, entry)
                if prev["sha"] != entry["sha"] and var not in unresolved:
                    unresolved.append(var)
        missing = [v for v in include if v not in to_merge and not self._flowc_has(v)]
        if unresolved:
            raise MergeArtifactsException(
                "Step *%s* cannot merge the following artifacts due to them having conflicting "
                "values:\n[%s].\nTo remedy this issue, be sure to explicitly set those artifacts "
                "(using self.<artifact_name> = ...) prior to calling merge_artifacts."
                % (current.step_name, ", ".join(unresolved)), unresolved)
        if missing:
            raise MergeArtifactsException(
                "Step *%s* specifies that [%s] should be merged but [%s] are not present.\n"
                "To remedy this issue, make sure that the values specified in only come from "
                "at least one branch" % (current.step_name, ", ".join(include),
                                         ", ".join(missing)), missing)
        inherited = self.__dict__["_flowc_inherited"]
        for var, entry in to_merge.items():
            inherited[var] = entry

    def _flowc_has(self, var):
        if var in self.__dict__ or var in self.__dict__.get("_flowc_inherited", {}):
            return True
        return isinstance(getattr(type(self), var, None), (Parameter, property))


class InputTask:
    """One input of a join: attribute access reads that task's artifacts (lazily)."""

    def __init__(self, ctx, step_name, manifest):
        self.__dict__["_flowc_ctx"] = ctx
        self.__dict__["_flowc_step"] = step_name
        self.__dict__["_flowc_manifest"] = manifest
        self.__dict__["_flowc_artifacts"] = manifest["artifacts"]
        self.__dict__["_flowc_cache"] = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        cache = self.__dict__["_flowc_cache"]
        if name in cache:
            return cache[name]
        entry = self.__dict__["_flowc_artifacts"].get(name)
        if entry is None:
            raise AttributeError("input from step '%s' has no artifact '%s'"
                                 % (self.__dict__["_flowc_step"], name))
        value = self.__dict__["_flowc_ctx"].load(entry["sha"])
        cache[name] = value
        return value

    def __setattr__(self, name, value):
        raise AttributeError("inputs are read-only")

    @property
    def index(self):
        stack = self.__getattr__("_foreach_stack")
        return stack[-1][0] if stack else None

    @property
    def input(self):
        stack = self.__getattr__("_foreach_stack")
        return stack[-1][2] if stack else None

    def foreach_stack(self):
        return [tuple(f) for f in self.__getattr__("_foreach_stack")]

    def __repr__(self):
        return "<input %s/%s>" % (self.__dict__["_flowc_step"],
                                  self.__dict__["_flowc_manifest"].get("task_id"))


class Inputs:
    """The `inputs` of a join: ordered, len(), index access, `inputs.<step>`."""

    def __init__(self, items):
        self._items = list(items)
        self._by_step = {}
        for it in self._items:
            self._by_step.setdefault(it.__dict__["_flowc_step"], it)

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        return self._items[i]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._by_step[name]
        except KeyError:
            raise AttributeError("no input from step '%s'" % name) from None


# ------------------------------------------------------------------------------------------
# installing the module


class _PermissiveModule(types.ModuleType):
    """`metaflow` and its submodules: a name flowc does not provide still works as a decorator (a
    no-op, as before) and fails on any other use with "not supported by flowc: metaflow.NAME"."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        from runtime_shim.api_extras import Unsupported

        where = self.__name__[len("metaflow."):] + "." if self.__name__.startswith("metaflow.") else ""
        return Unsupported(where + name)


class _MetaflowFinder:
    """Any `metaflow.<sub>` import yields a permissive empty module."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname.startswith("metaflow."):
            import importlib.machinery

            return importlib.machinery.ModuleSpec(fullname, cls, is_package=True)
        return None

    @staticmethod
    def create_module(spec):
        m = _PermissiveModule(spec.name)
        m.__path__ = []
        return m

    @staticmethod
    def exec_module(module):
        from runtime_shim import api_extras

        provided = dict(api_extras.names(), **{n: globals()[n] for n in __all__ if n in globals()})
        for name in api_extras.SUBMODULES.get(module.__name__, ()):
            setattr(module, name, provided[name])


def install():
    mod = _PermissiveModule("metaflow")
    mod.__path__ = []
    mod.__file__ = __file__
    this = sys.modules[__name__]
    for name in __all__ + ["ConfigValue", "config_expr", "MergeArtifactsException"]:
        setattr(mod, name, getattr(this, name))
    from runtime_shim import api_extras  # version, client, namespace, ...; S3 & co. refuse clearly

    for name, value in api_extras.names().items():
        setattr(mod, name, value)
    for key in [k for k in sys.modules if k == "metaflow" or k.startswith("metaflow.")]:
        del sys.modules[key]
    sys.modules["metaflow"] = mod
    if not any(f is _MetaflowFinder for f in sys.meta_path):
        sys.meta_path.insert(0, _MetaflowFinder)
    return mod
