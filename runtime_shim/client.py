"""A small client for runs in a flowc datastore, shaped like Metaflow's client.

    from runtime_shim.client import Flow, Run
    run = Run("HelloFlow/20261126T063414-aa3f52")      # FLOWC_DATASTORE, else the nearest .flowc
    run.successful, run.data.greeting, run["end"].task.data.greeting
    for step in run: for task in step: task.data.<artifact>

Only complete tasks (some attempt with a DONE marker) are visible; a task's data is the
manifest of its highest complete attempt.
"""
from __future__ import annotations

import os

from runtime_shim.datastore import FlowDatastore, parse_task_id


def local_datastore(start=None):
    """Where runs are kept when nothing says otherwise, as Metaflow keeps `.metaflow`: the nearest
    `.flowc` directory from the current directory upwards, else `./.flowc`."""
    here = os.path.abspath(start or os.getcwd())
    probe = here
    while True:
        if os.path.isdir(os.path.join(probe, ".flowc")):
            return "file://" + os.path.join(probe, ".flowc")
        parent = os.path.dirname(probe)
        if parent == probe:
            return "file://" + os.path.join(here, ".flowc")
        probe = parent


def _root(datastore):
    root = datastore or os.environ.get("FLOWC_DATASTORE") or local_datastore()
    if root.startswith("/"):
        root = "file://" + root
    return root


class DataArtifacts:
    """`task.data.<name>`: artifacts loaded lazily (internal ones, starting with '_', hidden)."""

    def __init__(self, ds, manifest):
        self._ds = ds
        self._manifest = manifest
        self._cache = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        arts = self._manifest["artifacts"]
        if name not in arts:
            raise AttributeError("no artifact '%s' in %s/%s/%s" % (
                name, self._manifest["run_id"], self._manifest["step"],
                self._manifest["task_id"]))
        if name not in self._cache:
            self._cache[name] = self._ds.load_artifact(arts[name]["sha"])
        return self._cache[name]

    def __contains__(self, name):
        return name in self._manifest["artifacts"]

    def __iter__(self):
        return iter(self.names())

    def names(self):
        return sorted(n for n in self._manifest["artifacts"] if not n.startswith("_"))

    def __repr__(self):
        return "<data %s>" % ", ".join(self.names())


class Task:
    def __init__(self, pathspec, datastore=None, _ds=None, _manifest=None):
        parts = pathspec.split("/")
        if len(parts) != 4:
            raise ValueError("a task pathspec is Flow/run_id/step/task_id: %r" % pathspec)
        self.flow_name, self.run_id, self.step_name, self.id = parts
        self.pathspec = pathspec
        self._ds = _ds or FlowDatastore(_root(datastore), self.flow_name)
        self._manifest = _manifest

    @property
    def manifest(self):
        if self._manifest is None:
            self._manifest = self._ds.read_manifest(self.run_id, self.step_name, self.id)
        return self._manifest

    @property
    def finished(self):
        return self.manifest is not None

    @property
    def successful(self):
        return self.finished

    @property
    def data(self):
        if self.manifest is None:
            raise KeyError("task %s is not complete" % self.pathspec)
        return DataArtifacts(self._ds, self.manifest)

    @property
    def index(self):
        stack = self.manifest.get("foreach_stack") or [] if self.manifest else []
        return stack[-1][0] if stack else None

    @property
    def index_path(self):
        return parse_task_id(self.id)[0]

    @property
    def attempt(self):
        return self.manifest["attempt"] if self.manifest else None

    @property
    def status(self):
        return self.manifest.get("status") if self.manifest else None

    def __getitem__(self, name):
        return getattr(self.data, name)

    def __repr__(self):
        return "Task('%s')" % self.pathspec


def _task_sort_key(tid):
    path, it = parse_task_id(tid)
    return (path, it)


class Step:
    def __init__(self, pathspec, datastore=None, _ds=None):
        parts = pathspec.split("/")
        if len(parts) != 3:
            raise ValueError("a step pathspec is Flow/run_id/step: %r" % pathspec)
        self.flow_name, self.run_id, self.id = parts
        self.pathspec = pathspec
        self._ds = _ds or FlowDatastore(_root(datastore), self.flow_name)

    def tasks(self, complete_only=True):
        out = []
        ids = [t for t in self._ds.list_tasks(self.run_id, self.id) if t.startswith("t")]
        for tid in sorted(ids, key=_task_sort_key):
            t = Task("%s/%s" % (self.pathspec, tid), _ds=self._ds)
            if not complete_only or t.finished:
                out.append(t)
        return out

    def __iter__(self):
        return iter(self.tasks())

    def __getitem__(self, task_id):
        t = Task("%s/%s" % (self.pathspec, task_id), _ds=self._ds)
        if not t.finished:
            raise KeyError(task_id)
        return t

    @property
    def task(self):
        tasks = self.tasks()
        return tasks[-1] if tasks else None

    def __repr__(self):
        return "Step('%s')" % self.pathspec


class Run:
    def __init__(self, pathspec, datastore=None, _ds=None):
        parts = pathspec.split("/")
        if len(parts) != 2:
            raise ValueError("a run pathspec is Flow/run_id: %r" % pathspec)
        self.flow_name, self.id = parts
        self.pathspec = pathspec
        self._ds = _ds or FlowDatastore(_root(datastore), self.flow_name)
        self._end = None

    def steps(self):
        return [Step("%s/%s" % (self.pathspec, s), _ds=self._ds)
                for s in self._ds.list_steps(self.id)]

    def __iter__(self):
        return iter(self.steps())

    def __getitem__(self, step):
        if step not in self._ds.list_steps(self.id):
            raise KeyError(step)
        return Step("%s/%s" % (self.pathspec, step), _ds=self._ds)

    def _end_task(self):
        # the end step is the one whose manifests have no successors; find it by trying "end"
        # first, then any step whose tasks recorded kind end
        for name in ["end"] + self._ds.list_steps(self.id):
            m = self._ds.read_manifest(self.id, name, "t")
            if m is not None and m.get("is_end", name == "end"):
                return Task("%s/%s/t" % (self.pathspec, name), _ds=self._ds, _manifest=m)
        return None

    @property
    def end_task(self):
        if self._end is None:
            self._end = self._end_task()
        return self._end

    @property
    def successful(self):
        return self.end_task is not None

    @property
    def finished(self):
        return self.successful

    @property
    def data(self):
        t = self.end_task
        return t.data if t else None

    def __repr__(self):
        return "Run('%s')" % self.pathspec


class Flow:
    def __init__(self, name, datastore=None):
        self.id = name
        self.pathspec = name
        self._ds = FlowDatastore(_root(datastore), name)

    def runs(self):
        return [Run("%s/%s" % (self.id, r), _ds=self._ds)
                for r in sorted(self._ds.list_runs(), reverse=True)]

    def __iter__(self):
        return iter(self.runs())

    def __getitem__(self, run_id):
        return Run("%s/%s" % (self.id, run_id), _ds=self._ds)

    @property
    def latest_run(self):
        runs = self.runs()
        return runs[0] if runs else None

    @property
    def latest_successful_run(self):
        for r in self.runs():
            if r.successful:
                return r
        return None

    def __repr__(self):
        return "Flow('%s')" % self.id
