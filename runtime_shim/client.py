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

    # ---- attempts, logs, failures
    def attempts(self):
        """Every attempt that left a record (logs, a failure, a manifest), ascending."""
        return self._ds.attempts(self.run_id, self.step_name, self.id)

    def _log_source(self, attempt=None):
        """(run id, attempt) whose logs are this task's: a cloned task's are the origin's."""
        m = self.manifest
        if attempt is None and m is not None and m.get("origin_run_id"):
            return m["origin_run_id"], m.get("origin_attempt", 0)
        if attempt is None:
            attempt = m["attempt"] if m is not None else (self.attempts() or [0])[-1]
        return self.run_id, attempt

    def log_chunks(self, stream="stdout", attempt=None, start=0):
        """(number, bytes) of the stored chunks of `stream`, in order, from chunk `start`."""
        if stream not in ("stdout", "stderr"):
            raise ValueError("stream is stdout or stderr, not %r" % stream)
        run_id, att = self._log_source(attempt)
        return self._ds.log_chunks(run_id, self.step_name, self.id, att, stream, start)

    def log(self, stream="stdout", attempt=None) -> str:
        return b"".join(c for _, c in self.log_chunks(stream, attempt)).decode("utf-8", "replace")

    @property
    def stdout(self):
        return self.log("stdout")

    @property
    def stderr(self):
        return self.log("stderr")

    def failure(self, attempt=None):
        """The failure record (dict) of `attempt` (default: the latest), or None."""
        if attempt is None:
            if self.finished:
                return None
            attempts = self.attempts()
            if not attempts:
                return None
            attempt = attempts[-1]
        return self._ds.read_failure(self.run_id, self.step_name, self.id, attempt)

    @property
    def exception(self):
        """The exception of the task's latest attempt when it failed (type, message, traceback),
        else None."""
        rec = self.failure()
        return TaskException(rec) if rec else None

    @property
    def failed(self):
        """The task failed for good: its latest attempt failed and no retry is left."""
        rec = self.failure()
        return bool(rec and rec.get("final", True))

    @property
    def origin_run_id(self):
        return self.manifest.get("origin_run_id") if self.manifest else None

    @property
    def finished_at(self):
        return _when(self.manifest.get("finished_at")) if self.manifest else None

    @property
    def created_at(self):
        return _when(self.manifest.get("started_at")) if self.manifest else None

    def __getitem__(self, name):
        return getattr(self.data, name)

    def __repr__(self):
        return "Task('%s')" % self.pathspec


class TaskException:
    """A failed attempt's exception as stored: `type`, `message`, `traceback` (user frames only)."""

    def __init__(self, record):
        self.record = record
        self.type = record.get("type")
        self.message = record.get("message", "")
        self.traceback = record.get("traceback", "")
        self.timed_out = bool(record.get("timed_out"))
        self.attempt = record.get("attempt")

    def __str__(self):
        return "%s: %s" % (self.type, self.message) if self.message else str(self.type)

    def __repr__(self):
        return "TaskException(%r)" % str(self)


def _when(ts):
    import datetime

    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc) if ts else None


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
        """The end step completed."""
        return self.end_task is not None

    @property
    def finished(self):
        """As in Metaflow: the run completed, that is its end step did."""
        return self.end_task is not None

    @property
    def finished_at(self):
        t = self.end_task
        return t.finished_at if t else None

    @property
    def created_at(self):
        started = self.started_at
        return _when(started) if started else None

    @property
    def started_at(self):
        """When the run's first task started (seconds since the epoch): the earliest task record
        of its first step (the start step's task, or its failed attempts)."""
        best = None
        steps = self._ds.list_steps(self.id)
        # the start step (by its usual name) holds the earliest time: look there first
        for step in sorted(steps, key=lambda s: s != "start"):
            for tid in self._ds.list_tasks(self.id, step):
                if not tid.startswith("t"):
                    continue
                t = Task("%s/%s/%s" % (self.pathspec, step, tid), _ds=self._ds)
                times = [t.manifest.get("started_at")] if t.manifest else \
                    [(self._ds.read_failure(self.id, step, tid, att) or {}).get("started_at")
                     for att in t.attempts()[:1]]
                for ts in times:
                    if ts and (best is None or ts < best):
                        best = ts
            if step == "start" and best is not None:
                break
        return best

    def last_activity(self):
        """The latest finish or failure time of any task (seconds since the epoch), or None."""
        latest = None
        for step in self._ds.list_steps(self.id):
            for tid in self._ds.list_tasks(self.id, step):
                if not tid.startswith("t"):
                    continue
                t = Task("%s/%s/%s" % (self.pathspec, step, tid), _ds=self._ds)
                m = t.manifest
                ts = m.get("finished_at") if m else None
                rec = None if m else t.failure()
                ts = ts or (rec.get("failed_at") if rec else None)
                if ts and (latest is None or ts > latest):
                    latest = ts
        return latest

    def failed_tasks(self):
        """Tasks that failed for good (no retry left), in step order of the datastore."""
        out = []
        for step in self.steps():
            for t in step.tasks(complete_only=False):
                if not t.finished and t.failed:
                    out.append(t)
        return out

    @property
    def state(self):
        """'succeeded', 'failed' (a task failed for good) or 'unfinished' (running, or stopped)."""
        if self.successful:
            return "succeeded"
        return "failed" if self.failed_tasks() else "unfinished"

    @property
    def options(self):
        return self._ds.read_run_options(self.id)

    @property
    def tags(self):
        return frozenset(self.options.get("tags") or ())

    @property
    def origin_run_id(self):
        """The run this one resumed, or None."""
        return self.options.get("origin_run_id")

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

    def runs(self, *tags):
        """The flow's runs, newest run id first; with tags, only runs that have all of them."""
        runs = [Run("%s/%s" % (self.id, r), _ds=self._ds)
                for r in sorted(self._ds.list_runs(), reverse=True)]
        if tags:
            runs = [r for r in runs if set(tags) <= r.tags]
        return runs

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
