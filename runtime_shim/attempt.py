"""One attempt of one task, in named phases (task.py parses the command line and calls `execute`):

    request -> parameters -> earlier attempts -> inputs -> current -> user code -> routing -> persist

A phase that finds the attempt failed for a reason of the flow's own (its code, its data) raises
StepFailed with the line to log; `execute` turns that into exit 1. Bad requests raise UsageError
(exit 2), as before.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

from runtime_shim.datastore import DatastoreError, FlowDatastore, task_id_for
from runtime_shim.task import (
    _CLEANUP,
    EXIT_OK,
    EXIT_USER,
    START_CWD,
    Context,
    Resolver,
    UsageError,
    UserError,
    _username,
    import_flow,
    load_spec,
    log,
    prepare_flow_dir,
    resolve_parameters,
    run_step,
    write_outputs,
)


class StepFailed(Exception):
    """The attempt failed because of the flow (exit 1); the message, if any, is logged."""


class Terminated(BaseException):
    """SIGTERM arrived: the engine is stopping the task (a timeout, a terminate, a node drain).
    A BaseException, so neither the step's `except Exception` nor @catch swallows it."""
    __module__ = "flowc"        # failure.json's type: flowc.Terminated (not a metaflow exception)


EXIT_TERMINATED = 128 + 15      # as if SIGTERM had ended the process


class _TermTrap:
    """While the task loads and runs user code, SIGTERM raises Terminated there, so the attempt
    stores its logs and a failure record (where the step was) before the engine's SIGKILL. Once
    the step's work is done (routing, persisting), SIGTERM only is noted: the result is stored."""

    def __init__(self):
        self.armed = True
        self.arrived = False
        try:
            self.old = signal.signal(signal.SIGTERM, self._on_term)
        except ValueError:          # not the main thread (an embedding caller): no trap
            self.old = None

    def _on_term(self, signum, frame):
        self.arrived = True
        if self.armed:
            self.armed = False
            raise Terminated("the task was stopped by SIGTERM (the engine ended it: a timeout, a terminate "
                             "or a node drain)")

    def disarm(self):
        self.armed = False

    def restore(self):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


def execute(a) -> int:
    spec = load_spec(a.spec)
    step = check_request(a, spec)
    given = given_parameters(a, spec)
    attempt = Attempt(a, spec, step)
    if attempt.report_earlier_attempt() or attempt.clone_from_origin():
        return EXIT_OK
    from runtime_shim.logcapture import LogCapture

    capture = LogCapture(attempt.store_log_chunk).start()
    trap = _TermTrap()
    try:
        try:
            attempt.load(given)
            attempt.run_user_code()
            trap.disarm()
            attempt.route()
            attempt.persist()
            from runtime_shim import events  # @trigger_on_finish: a finished run says so

            events.on_task_success(attempt.flow_name, a.run_id, a.step, attempt.task_id, spec.get("end"))
        except StepFailed as failed:
            if str(failed):
                log(str(failed))
            attempt.record_failure(failed)
            return EXIT_USER
        except UserError as e:      # the flow failed to import: a failed attempt too
            attempt.record_failure(StepFailed(str(e)), exc=e.__cause__ or e.__context__)
            raise
        except Terminated as e:
            trap.disarm()
            log("%s attempt %d: %s" % (attempt.pathspec, a.attempt, e))
            attempt.record_failure(StepFailed(str(e)), exc=e)
            return EXIT_TERMINATED
        return EXIT_OK
    finally:
        trap.restore()
        capture.stop()


# --- request and parameters ----------------------------------------------------------------
def check_request(a, spec) -> dict:
    """The step's spec, once the spec format, the step, its index path and iteration are right."""
    if spec.get("format") != 1:
        raise UsageError("unsupported runtime spec format %r" % spec.get("format"))
    steps = spec["steps"]
    if a.step not in steps:
        raise UsageError("no step %r in the spec (steps: %s)" % (a.step, ", ".join(sorted(steps))))
    s = steps[a.step]
    depth = s.get("depth", 0)
    if len(a.index_path) != depth:
        raise UsageError("step %s has foreach depth %d: --index-path needs %d indexes, got %r"
                         % (a.step, depth, depth, a.index_path))
    if a.iteration and not s.get("recursive"):
        raise UsageError("--iteration is only for recursive switch steps")
    return s


def given_parameters(a, spec):
    """The parameter values this run was started with (JSON, a file, or argv pairs), or None."""
    given = None
    if a.params_json or a.params_file:
        try:
            if a.params_file:
                with open(a.params_file) as f:
                    given = json.load(f)
            else:
                given = json.loads(a.params_json)
        except (OSError, ValueError) as e:
            raise UsageError("cannot read parameters: %s" % e) from None
        if not isinstance(given, dict):
            raise UsageError("parameters must be a JSON object")
    if a.params or a.params_b64:
        from runtime_shim import params

        try:
            pairs = params.from_argv(spec.get("parameters", []), a.params, a.params_b64)
        except params.ParamError as e:
            raise UsageError(str(e)) from None
        given = dict(given or {}, **pairs)
    return given


class Attempt:
    def __init__(self, a, spec, s):
        self.a, self.spec, self.s = a, spec, s
        self.steps = spec["steps"]
        self.flow_name = spec["flow_name"]
        self.task_id = task_id_for(a.index_path, a.iteration)
        self.pathspec = "%s/%s/%s" % (a.run_id, a.step, self.task_id)
        try:
            self.ds = FlowDatastore(a.datastore, self.flow_name)
        except DatastoreError as e:
            raise UsageError(str(e)) from None
        self.status = "ok"
        self.num_splits = self.branch = None
        self.started = time.time()
        self.options = self.ds.read_run_options(a.run_id)    # tags, the origin of a resumed run
        self.source_dir = START_CWD     # a local task starts in the flow's directory (tracebacks)
        self.flow_dir = None
        self.error = None               # the step's exception, for the failure record

    # --- resume ------------------------------------------------------------------------------
    def clone_from_origin(self) -> bool:
        """True when this task is cloned from the origin run of a resumed run (runtime_shim.resume)."""
        from runtime_shim import resume

        a = self.a
        source = resume.clone_source(self.ds, self.options, self.spec, a.step, self.task_id)
        if source is None:
            return False
        m = resume.clone(self.ds, source, a.run_id, a.attempt)
        write_outputs(a.output_dir, {"num_splits": m.get("num_splits"), "branch": m.get("branch"),
                                     "task_id": self.task_id})
        log("%s cloned from %s/%s/%s" % (self.pathspec, m["origin_run_id"], a.step, self.task_id))
        return True

    # --- logs and failures -------------------------------------------------------------------
    def store_log_chunk(self, stream, number, data) -> None:
        self.ds.write_log_chunk(self.a.run_id, self.a.step, self.task_id, self.a.attempt, stream, number, data)

    def record_failure(self, failed, exc=None) -> None:
        """failure.json for this attempt; `final` when the engine will not retry it."""
        from runtime_shim import failure

        a = self.a
        retry_times = int((self.s.get("retry") or {}).get("times") or 0)
        exc = exc if exc is not None else self.error
        rec = failure.record("%s/%s" % (self.flow_name, self.pathspec), a.attempt, exc=exc,
                             message=str(failed), flow_dir=self.flow_dir,
                             source_dir=self.source_dir, final=a.attempt >= retry_times, started=self.started)
        try:
            self.ds.write_failure(a.run_id, a.step, self.task_id, a.attempt, rec)
        except (DatastoreError, OSError) as e:
            log("the failure record of %s could not be stored: %s" % (self.pathspec, e))

    # --- earlier attempts --------------------------------------------------------------------
    def report_earlier_attempt(self) -> bool:
        """True when an earlier attempt already completed the task (its result is reported)."""
        a, spec, ds = self.a, self.spec, self.ds
        if a.step == spec.get("start", "start") and spec.get("end") and \
                ds.attempts_done(a.run_id, spec["end"], task_id_for([], 0)):
            # a run id repeats (a reused workflow name, `argo retry --restart-successful`, a cron child
            # in another namespace): never mix a new run into a finished one's results
            raise UsageError("run %s/%s already finished (its %s step completed); a new run needs a new "
                             "run id" % (self.flow_name, a.run_id, spec["end"]))
        done = ds.attempts_done(a.run_id, a.step, self.task_id)
        if a.attempt in done:
            raise UsageError("%s attempt %d is already complete; a new attempt needs a new --attempt"
                             % (self.pathspec, a.attempt))
        if not done:
            return False
        # An earlier attempt completed (its process was killed after DONE, or the engine lost its
        # exit status): the task keeps that one result; report it instead of running again.
        m = ds.publish_records(a.run_id, a.step, self.task_id)
        write_outputs(a.output_dir, {"num_splits": m.get("num_splits"), "branch": m.get("branch"),
                                     "task_id": self.task_id})
        log("%s attempt %d: attempt %d already completed the task; not run again"
            % (self.pathspec, a.attempt, m.get("attempt")))
        return True

    # --- inputs ------------------------------------------------------------------------------
    def load(self, given) -> None:
        """Import the flow, gather the artifacts this task starts from, set `current`."""
        a, ds = self.a, self.ds
        kind, data = Resolver(self.spec, ds, a.run_id).inputs_for(a.step, a.index_path, a.iteration)
        flow_dir = self.flow_dir = prepare_flow_dir()
        _CLEANUP.append(flow_dir)
        # @pypi/@conda packages, opt-in (FLOWC_INSTALL_PACKAGES)
        from runtime_shim.packages import ensure

        ensure(self.spec["steps"][a.step], log)
        cls = import_flow(self.spec, flow_dir)
        self.is_join = kind == "join"
        ctx = Context(ds, self.is_join)
        inherited, stack, self.inputs, self.param_names = self._inherited(kind, data, given, flow_dir, ctx)
        self._set_current(kind, data, stack)
        self.flow = cls.__new__(cls)
        self.flow._flowc_init(ctx, inherited, stack, self.inputs)
        self.func = getattr(self.flow, a.step, None)
        if self.func is None:
            raise UsageError("flow %s has no step method %s" % (self.flow_name, a.step))

    def _inherited(self, kind, data, given, flow_dir, ctx):
        """(artifacts by name, foreach stack, join inputs, parameter names) this task starts from."""
        from runtime_shim import api

        ds, s = self.ds, self.s
        inherited: dict = {}
        stack: list = []
        inputs = None
        param_names = [p["attr"] for p in self.spec.get("parameters", [])]
        if kind == "start":
            for attr, v in resolve_parameters(self.spec, given or {}, flow_dir).items():
                sha, size = ds.save_artifact(v)
                inherited[attr] = {"sha": sha, "size": size, "type": type(v).__name__}
        elif kind == "linear":
            m, new_stack = data
            inherited = {k: v for k, v in m["artifacts"].items() if k != "_foreach_stack"}
            if new_stack is not None:
                stack = new_stack
            elif "_foreach_stack" in m["artifacts"]:
                stack = ds.load_artifact(m["artifacts"]["_foreach_stack"]["sha"])
            param_names = m.get("parameters", param_names)
        else:
            first = data[0][1] if data else None
            inputs = api.Inputs([api.InputTask(ctx, st, mi) for st, mi in data])
            if first is not None:
                param_names = first.get("parameters", param_names)
                inherited = {k: first["artifacts"][k] for k in param_names if k in first["artifacts"]}
                if "_foreach_stack" in first["artifacts"]:
                    stack = ds.load_artifact(first["artifacts"]["_foreach_stack"]["sha"])
                split_kind = self.steps.get(s.get("join_of"), {}).get("kind")
                if split_kind in ("foreach", "parallel") and stack:
                    stack = list(stack)[:-1]
        return inherited, stack, inputs, param_names

    def _set_current(self, kind, data, stack) -> None:
        from runtime_shim import api

        a, s, steps = self.a, self.s, self.steps
        project = self.spec.get("project") or {}
        if isinstance(project, str):
            project = {"name": project, "branch": None}
        api.current._set(
            flow_name=self.flow_name, run_id=a.run_id, step_name=a.step, task_id=self.task_id,
            retry_count=a.attempt, origin_run_id=self.options.get("origin_run_id"),
            namespace=os.environ.get("FLOWC_NAMESPACE") or ("user:%s" % _username()),
            username=_username(), parameter_names=list(self.param_names), _datastore=a.datastore,
            project_name=project.get("name"), branch_name=project.get("branch"),
            project_flow_name=("%s.%s.%s" % (project.get("name"), project.get("branch"), self.flow_name)
                               if project.get("name") else None))
        parallel = None
        if stack and kind == "linear" and data[1] is not None and steps[s["in"][0]]["kind"] == "parallel":
            parallel = api.ParallelInfo(num_nodes=stack[-1][1], node_index=stack[-1][0])
        elif kind != "start" and s["kind"] != "join" and stack and any(
                steps.get(p_, {}).get("kind") == "parallel" for p_ in s.get("in", [])):
            parallel = api.ParallelInfo(num_nodes=stack[-1][1], node_index=stack[-1][0])
        api.current.parallel = parallel

    # --- user code ---------------------------------------------------------------------------
    def run_user_code(self) -> None:
        """@secrets, then the step body under @timeout; @catch on the last attempt, or StepFailed."""
        from runtime_shim import api

        a, s = self.a, self.s
        retry_times = int((s.get("retry") or {}).get("times") or 0)
        catch_var = s.get("catch_var")
        has_catch = bool(s.get("catch")) or catch_var is not None
        if s.get("secrets"):
            from runtime_shim import secrets

            try:
                secrets.apply(s["secrets"])
            except secrets.SecretError as e:   # a failed attempt: access may be fixed before a retry
                raise StepFailed("%s attempt %d: @secrets: %s" % (self.pathspec, a.attempt, e)) from None
        log("%s attempt %d starting" % (self.pathspec, a.attempt))
        try:
            if self.is_join:
                run_step(self.func, s.get("timeout_seconds"), self.inputs)
            else:
                run_step(self.func, s.get("timeout_seconds"))
            if catch_var:
                self.flow.__dict__[catch_var] = None
        except (Exception, SystemExit) as e:
            import traceback

            from runtime_shim.failure import user_traceback

            last = a.attempt >= retry_times
            if not (has_catch and last):
                self.error = e
                sys.stderr.write(user_traceback(e, self.flow_dir, self.source_dir))
                raise StepFailed("%s attempt %d failed: %s: %s%s" % (
                    self.pathspec, a.attempt, type(e).__name__, e,
                    "" if last else " (the engine may retry: %d of %d retries left)"
                    % (retry_times - a.attempt, retry_times))) from None
            if s.get("catch_print", True):
                log("@catch caught an exception from %s" % self.pathspec)
                for line in traceback.format_exc().splitlines():
                    sys.stderr.write(">  %s\n" % line)
            if catch_var:
                self.flow.__dict__[catch_var] = api.MetaflowExceptionWrapper(e)
            self.status = "caught"
            self.flow.__dict__["_flowc_transition"] = {"next": list(s.get("next", [])), "caught": True}

    # --- routing -----------------------------------------------------------------------------
    def route(self) -> None:
        """What the engine reads back: a foreach's cardinality, a switch's branch."""
        s, step_name = self.s, self.a.step
        transition = self.flow.__dict__.get("_flowc_transition")
        if s["kind"] != "end" and s.get("next") and transition is None:
            raise StepFailed("step %s did not call self.next()" % step_name)
        if self.status != "ok":
            return
        if s["kind"] == "foreach":
            var = s.get("foreach_var") or (transition or {}).get("foreach")
            try:
                self.num_splits = len(self.flow._flowc_artifact(var))
            except (AttributeError, TypeError) as e:
                raise StepFailed("foreach over '%s' in step %s: %s" % (var, step_name, e)) from None
            if self.num_splits == 0:   # self.next() raises this first; the spec's variable is checked too
                raise StepFailed("Foreach iterator over %s in step %s produced zero splits. Check your variable."
                                 % (var, step_name))
        elif s["kind"] == "parallel":
            self.num_splits = int(s.get("num_parallel") or (transition or {}).get("num_parallel") or 0)
        elif s["kind"] == "switch":
            self.branch = self._chosen_branch(transition)

    def _chosen_branch(self, transition) -> str:
        s, step_name = self.s, self.a.step
        cond = s.get("condition") or (transition or {}).get("condition")
        cases = s.get("cases") or (transition or {}).get("cases") or {}
        try:
            value = self.flow._flowc_artifact(cond)
        except AttributeError:
            raise StepFailed("switch step %s: the condition artifact '%s' is not set" % (step_name, cond)) from None
        value_key = str(value) if isinstance(value, bool) or not isinstance(value, str) else value
        if value_key not in cases:
            raise StepFailed("switch step %s: the value %r of '%s' is not a case (cases: %s)"
                             % (step_name, value, cond, ", ".join(sorted(map(str, cases)))))
        return cases[value_key]

    # --- persist -----------------------------------------------------------------------------
    def persist(self) -> None:
        """Unchanged inherited artifacts by hash, everything set or read in this task anew, then
        the manifest (its DONE marker last) and the engine's output files."""
        import pickle

        a, s, ds = self.a, self.s, self.ds
        d = self.flow.__dict__
        artifacts = {name: entry for name, entry in d["_flowc_inherited"].items() if name not in d}
        for name, value in list(d.items()):
            if name.startswith("_flowc"):
                continue
            try:
                sha, size = ds.save_artifact(value)
            except (pickle.PicklingError, TypeError, AttributeError) as e:
                raise StepFailed("step %s: artifact '%s' (%s) cannot be stored: %s"
                                 % (a.step, name, type(value).__name__, e)) from None
            artifacts[name] = {"sha": sha, "size": size, "type": type(value).__name__}
        sha, size = ds.save_artifact([tuple(f) for f in d["_flowc_stack"]])
        artifacts["_foreach_stack"] = {"sha": sha, "size": size, "type": "list"}
        ds.write_task({
            "format": 1, "flow_name": self.flow_name, "run_id": a.run_id, "step": a.step,
            "task_id": self.task_id, "attempt": a.attempt, "index_path": a.index_path,
            "iteration": a.iteration, "artifacts": artifacts, "parameters": list(self.param_names),
            "num_splits": self.num_splits, "branch": self.branch,
            "foreach_var": s.get("foreach_var") if s["kind"] == "foreach" else None,
            "foreach_stack": [[f[0], f[1]] for f in d["_flowc_stack"]],
            "is_end": a.step == self.spec.get("end"), "status": self.status,
            "started_at": self.started, "finished_at": time.time(),
        })
        write_outputs(a.output_dir, {"num_splits": self.num_splits, "branch": self.branch, "task_id": self.task_id})
        log("%s attempt %d %s" % (self.pathspec, a.attempt,
                                  "succeeded" if self.status == "ok" else "failed, caught by @catch"))
