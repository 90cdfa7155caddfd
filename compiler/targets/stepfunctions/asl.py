"""FlowPlan -> Amazon States Language (JSONPath query language), built as plain dicts.

Shape (see compiler/targets/stepfunctions/README.md for the why):
- `Init` (Pass): the state data every task reads: {"run": $$.Execution.Name, "ip": "", "tid": "t",
  "defaults": {...}, "input": $$.Execution.Input}; the start task merges them with States.JsonMerge.
- each step: a `batch:submitJob.sync` Task (or `eks:runJob.sync` for @kubernetes steps) whose
  ContainerOverrides.Command is built with States.Array from the run id `$.run`, the index path
  `$.ip` and `$$.State.RetryCount` (the attempt). ResultPath null drops the job's result: state
  data stays the small context object. Resources are overridden only where they differ from the
  job definition's, and nothing else is repeated per state: a state costs ~430 bytes, so a
  2,000-step flow fits Step Functions' 1 MB definition limit.
- static split: Parallel, one branch per target, each ending before the join.
- foreach: a DISTRIBUTED Map whose ItemReader reads the split task's foreach.json from S3, key
  built with States.Format from the run id and the task id; ItemSelector extends the index
  path; ResultWriter keeps child outputs out of the state (width-independent).
- switch: aws-sdk:s3:getObject of switch.json, States.StringToJson in ResultSelector, a Choice.
  A recursive case goes through a Pass that increments the step's iteration (States.MathAdd).
"""
from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

from compiler.compute import batch as compute_batch
from compiler.compute.container import COMMAND_PREFIX, Expr, task_argv
from compiler.ir import FlowPlan, StepPlan
from compiler.targets.stepfunctions import eks
from compiler.targets.stepfunctions.common import (
    BATCH_SUBMIT,
    S3_GET,
    S3_ITEMS,
    S3_RESULTS,
    SUFFIX_CHOOSE,
    SUFFIX_CLUSTER,
    SUFFIX_FOREACH,
    SUFFIX_LOOP,
    SUFFIX_READ,
    SUFFIX_SPLIT,
    array,
    esc,
)

Walk = Generator[Any, Any, Any]     # a step of the graph walk: yields sub-walks, returns a value


def _drive(walk: Walk) -> Any:
    """Run a walk and the sub-walks it yields on an explicit stack; return the walk's value."""
    stack, value = [walk], None
    while stack:
        try:
            sub = stack[-1].send(value)
        except StopIteration as done:
            stack.pop()
            value = done.value
            continue
        stack.append(sub)
        value = None
    return value


def _scope_end(join: str | None) -> set[str]:
    """Where a split's branches stop: its join (lower.py matches every split with one)."""
    if join is None:
        raise ValueError("a split without a matching join reached the Step Functions target")
    return {join}


def split_s3(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://"):] if uri.startswith("s3://") else uri
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")


def param_default_strings(plan: FlowPlan) -> dict[str, str]:
    """Parameter defaults as the raw strings a user would pass (the runtime converts by type).

    IncludeFile defaults are paths on the machine that starts the run: they are not part of the
    defaults (the runtime applies its own default; a remote run passes the content).
    """
    out: dict[str, str] = {}
    for p in plan.parameters:
        if not p.has_default or p.default is None or p.kind == "include_file":
            continue
        value = p.default
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, sort_keys=True)
        else:
            text = str(value)
        out[p.name] = text
    return out


class AslBuilder:
    def __init__(self, plan: FlowPlan, settings: Any, *, jobdef_names: dict[str, str],
                 state_machine_name: str, code_sha256: str = "", code_url: str | None = None):
        self.plan = plan
        self.code_sha256 = code_sha256
        self.code_url = code_url
        self.settings = settings
        self.jobdef_names = jobdef_names              # step -> job definition name
        self.name = state_machine_name
        datastore = str(getattr(settings, "datastore", None) or "s3://flowc-datastore")
        self.bucket, self.prefix = split_s3(datastore)
        # Distributed Map allows MaxConcurrency up to 10,000.
        self.max_workers = max(1, min(10_000, int(getattr(settings, "max_workers", None) or 100)))
        self.recursive = [s.name for s in plan.steps.values() if s.kind == "switch" and s.recursive]

    # --- keys in S3 --------------------------------------------------------------------------
    def _run_key_format(self, step: str, leaf: str) -> str:
        parts = [p for p in (self.prefix, self.plan.flow_name, "runs") if p]
        head = "/".join(esc(part)[1:-1] for part in parts)
        return f"{head}/{{}}/{esc(step)[1:-1]}/{{}}/{esc(leaf)[1:-1]}"

    def results_prefix(self) -> str:
        return "/".join(p for p in (self.prefix, self.plan.flow_name, "sfn-map-results") if p)

    # --- context object ----------------------------------------------------------------------
    def _iter_key(self, step: str) -> str:
        return "it_" + step

    def _tid_expr(self, step: StepPlan) -> str:
        """JSONPath of the task id of `step` in the current state data."""
        return f"$.{self._iter_key(step.name)}.tid" if step.recursive and step.kind == "switch" else "$.tid"

    def initial_state(self) -> dict[str, Any]:
        # The run id travels in the state data: inside a distributed Map every item runs as a child
        # execution whose $$.Execution.Name is its own, not the run's.
        params: dict[str, Any] = {"run.$": "$$.Execution.Name", "ip": "", "tid": "t"}
        for name in self._recursive_at_depth(0):
            params[self._iter_key(name)] = {"n": 0, "tid": "t"}
        params["defaults"] = param_default_strings(self.plan)
        params["input.$"] = "$$.Execution.Input"
        return {"Type": "Pass", "Comment": "flowc: run context (index path, task id, parameters)",
                "Parameters": params}

    def _recursive_at_depth(self, depth: int) -> list[str]:
        return [n for n in self.recursive if self.plan.steps[n].depth == depth]

    # --- the graph walk ----------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        states: dict[str, Any] = {"Init": self.initial_state()}
        first = _drive(self.chain(self.plan.start, stop=set(), states=states))
        states["Init"]["Next"] = first
        if self.plan.exit_hooks:
            states = self.with_exit_hooks(states)
        definition: dict[str, Any] = {
            "Comment": f"flowc: {self.plan.flow_name} ({self.plan.flow_file})"
                       + (f"; compiled with environment variables {', '.join(self.plan.env_reads)}"
                          if self.plan.env_reads else ""),
            "StartAt": "Init",
            "States": states,
        }
        workflow_timeout = getattr(self.settings, "workflow_timeout", None)
        if workflow_timeout:
            definition["TimeoutSeconds"] = int(workflow_timeout)
        return definition

    # @exit_hook: the flow's states run inside a one-branch Parallel whose Catch-all runs the error
    # hook job (then fails the execution); after the branch ends, the success hook job runs. Each is
    # the end step's Batch task with the `hook` command (check.py refuses a @kubernetes end step).
    HOOKS_RUN, HOOK_SUCCESS, HOOK_ERROR, HOOKS_FAILED = "Run", "ExitHookSuccess", "ExitHookError", "RunFailed"

    def with_exit_hooks(self, flow_states: dict[str, Any]) -> dict[str, Any]:
        init = flow_states.pop("Init")
        run: dict[str, Any] = {"Type": "Parallel", "Comment": "flowc: the run, inside the exit hooks",
                               "Branches": [{"StartAt": init.pop("Next"), "States": flow_states}],
                               "ResultPath": None,
                               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error"}]}
        init["Next"] = self.HOOKS_RUN
        states: dict[str, Any] = {"Init": init, self.HOOKS_RUN: run}
        events = {e for e, _ in self.plan.exit_hooks}
        if "success" in events:
            run["Next"] = self.HOOK_SUCCESS
            states[self.HOOK_SUCCESS] = {**self.hook_state("success"), "End": True}
        else:
            run["End"] = True
        if "error" in events:
            run["Catch"][0]["Next"] = self.HOOK_ERROR
            states[self.HOOK_ERROR] = {**self.hook_state("error"), "Next": self.HOOKS_FAILED}
        else:
            run["Catch"][0]["Next"] = self.HOOKS_FAILED
        states[self.HOOKS_FAILED] = {"Type": "Fail", "Error": "FlowFailed",
                                     "Cause": "a step failed; the exit hooks ran"}
        return states

    def hook_state(self, event: str) -> dict[str, Any]:
        end = self.plan.steps[self.plan.end]
        argv = ["hook", "--run-id", Expr("$.run"), "--event", event]
        for e, fn in self.plan.exit_hooks:
            if e == event:
                argv += ["--function", fn]
        state = self.task_state(end, {})
        params = state["Parameters"]
        params["JobName"] = self.job_name(end)[:120] + "-hook"
        params["ContainerOverrides"] = {"Command.$": array([*COMMAND_PREFIX, *argv])}
        params.pop("Timeout", None)
        state.pop("Retry", None)
        state.pop("TimeoutSeconds", None)
        state["Comment"] = f"flowc: @exit_hook on {event}"
        return state

    # The walk is written as generators that `yield` their sub-walks and get the result back:
    # _drive runs them on an explicit stack, so a flow's length or nesting never meets Python's
    # recursion limit (a 2,000-step flow compiles), and states are added in depth-first order.
    def chain(self, name: str, *, stop: set[str], states: dict[str, Any]) -> Walk:
        """Add the states of `name` and of everything after it up to (not including) a step in
        `stop`; return the name of the first state."""
        step = self.plan.steps[name]
        if name not in states:
            yield self.step_states(step, stop=stop, states=states)
        return self._entry_state(step)

    def _entry_state(self, step: StepPlan) -> str:
        if step.compute.backend == "kubernetes":
            return step.name + SUFFIX_CLUSTER
        return step.name

    def _after(self, nxt: str | None, stop: set[str], states: dict[str, Any]) -> Walk:
        if nxt is None or nxt in stop:
            return {"End": True}
        return {"Next": (yield self.chain(nxt, stop=stop, states=states))}

    def step_states(self, step: StepPlan, *, stop: set[str], states: dict[str, Any]) -> Walk:
        task = self.task_state(step, states)
        states[step.name] = task   # reserve the name before recursing (convergent switch cases)
        if step.kind in ("split",):
            join = step.matching_join
            branches = []
            for target in step.next:
                sub: dict[str, Any] = {}
                start = yield self.chain(target, stop=_scope_end(join), states=sub)
                branches.append({"StartAt": start, "States": sub})
            par = {"Type": "Parallel", "Branches": branches, "ResultPath": None}
            task["Next"] = step.name + SUFFIX_SPLIT
            states[step.name + SUFFIX_SPLIT] = par
            par.update((yield self._after(join, stop, states)))
        elif step.kind in ("foreach", "parallel"):
            join = step.matching_join
            task["Next"] = step.name + SUFFIX_FOREACH
            states[step.name + SUFFIX_FOREACH] = yield self.map_state(step)
            states[step.name + SUFFIX_FOREACH].update((yield self._after(join, stop, states)))
        elif step.kind == "switch":
            yield self.switch_states(step, task, stop=stop, states=states)
        else:
            nxt = step.next[0] if step.next else None
            task.update((yield self._after(nxt, stop, states)))

    def map_state(self, step: StepPlan) -> Walk:
        body: dict[str, Any] = {}
        first = yield self.chain(step.next[0], stop=_scope_end(step.matching_join), states=body)
        depth = step.depth + 1
        if step.depth == 0:
            ip = "States.Format('{}', $$.Map.Item.Value)"
        else:
            ip = "States.Format('{},{}', $.ip, $$.Map.Item.Value)"
        tid = "States.Format('{}-{}', $.tid, $$.Map.Item.Value)"
        selector: dict[str, Any] = {"run.$": "$.run", "ip.$": ip, "tid.$": tid}
        for name in self._recursive_at_depth(depth):
            selector[self._iter_key(name)] = {"n": 0, "tid.$": tid}
        key = self._run_key_format(step.name, "foreach.json")
        return {
            "Type": "Map",
            "Comment": f"flowc: foreach over {step.foreach_var or 'num_parallel'} of {step.name}",
            "ItemReader": {
                "Resource": S3_ITEMS,
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {
                    "Bucket": self.bucket,
                    "Key.$": f"States.Format('{key}', $.run, $.tid)",
                },
            },
            "ItemSelector": selector,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": first,
                "States": body,
            },
            "MaxConcurrency": self.max_workers,
            "ResultWriter": {
                "Resource": S3_RESULTS,
                "Parameters": {"Bucket": self.bucket, "Prefix": self.results_prefix()},
            },
            "ResultPath": None,
        }

    def switch_states(self, step: StepPlan, task: dict[str, Any], *, stop: set[str],
                      states: dict[str, Any]) -> Walk:
        read, choose = step.name + SUFFIX_READ, step.name + SUFFIX_CHOOSE
        task["Next"] = read
        key = self._run_key_format(step.name, "switch.json")
        states[read] = {
            "Type": "Task",
            "Comment": f"flowc: the branch {step.name} chose",
            "Resource": S3_GET,
            "Parameters": {
                "Bucket": self.bucket,
                "Key.$": f"States.Format('{key}', $.run, {self._tid_expr(step)})",
            },
            "ResultSelector": {"value.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.switch",
            "Retry": [{"ErrorEquals": ["S3.NoSuchKeyException", "S3.NoSuchKey"], "IntervalSeconds": 1,
                       "MaxAttempts": 3, "BackoffRate": 2.0}],
            "Next": choose,
        }
        choices: list[dict[str, Any]] = []
        states[choose] = {"Type": "Choice", "Choices": choices}
        targets: list[str] = []
        for target in step.cases.values() or step.next:
            if target not in targets:
                targets.append(target)
        for target in targets:
            if target == step.name:
                loop = step.name + SUFFIX_LOOP
                k = self._iter_key(step.name)
                states[loop] = {
                    "Type": "Pass",
                    "Comment": f"flowc: next iteration of {step.name}",
                    "Parameters": {
                        "n.$": f"States.MathAdd($.{k}.n, 1)",
                        "tid.$": f"States.Format('{{}}.{{}}', $.tid, States.MathAdd($.{k}.n, 1))",
                    },
                    "ResultPath": f"$.{k}",
                    "Next": self._entry_state(step),
                }
                nxt = loop
            elif target in stop:
                nxt = None
            else:
                nxt = yield self.chain(target, stop=stop, states=states)
            if nxt is None:
                raise ValueError(f"switch {step.name} jumps out of its scope to {target}")
            choices.append({"Variable": "$.switch.value.branch", "StringEquals": target, "Next": nxt})

    # --- one task ----------------------------------------------------------------------------
    def task_argv(self, step: StepPlan) -> list[str]:
        """The task argv with the run id, index path, attempt (and iteration, parameters) as paths."""
        iteration = params = None
        if step.kind == "switch" and step.recursive:
            iteration = Expr(f"States.Format('{{}}', $.{self._iter_key(step.name)}.n)")
        if step.name == self.plan.start:
            params = Expr("States.JsonToString(States.JsonMerge($.defaults, $.input, false))")
        return task_argv(step.name, run_id=Expr("$.run"), index_path=Expr("$.ip"),
                         attempt=Expr("States.Format('{}', $$.State.RetryCount)"), iteration=iteration,
                         params_json=params)

    def command_expr(self, step: StepPlan) -> str:
        return array([*COMMAND_PREFIX, *self.task_argv(step)])

    def retry(self, step: StepPlan) -> list[dict[str, Any]]:
        if step.retry.times <= 0:
            return []
        interval = max(1, int(round(step.retry.minutes_between * 60)))
        return [{"ErrorEquals": ["States.TaskFailed", "States.Timeout"], "IntervalSeconds": interval,
                 "MaxAttempts": int(step.retry.times), "BackoffRate": 1.0}]

    def task_state(self, step: StepPlan, states: dict[str, Any]) -> dict[str, Any]:
        if step.compute.backend == "kubernetes":
            return eks.task_states(self, step, states)
        overrides: dict[str, Any] = {"Command.$": self.command_expr(step)}
        requirements = compute_batch.resource_requirements(step.compute, key_case="pascal")
        if requirements != compute_batch.DEFAULT_REQUIREMENTS_PASCAL:
            overrides["ResourceRequirements"] = requirements
        if step.env:
            overrides["Environment"] = [{"Name": k, "Value": v} for k, v in step.env.items()]
        queue = compute_batch.queue_of(step.compute, self.settings) or compute_batch.PLACEHOLDER_QUEUE
        params: dict[str, Any] = {
            "JobName": self.job_name(step),
            "JobQueue": queue,
            "JobDefinition": self.jobdef_names[step.name],
            "ContainerOverrides": overrides,
        }
        tags = compute_batch.submit_tags(step.compute)
        if tags:
            params["Tags"] = tags
        batch_timeout = compute_batch.batch_timeout_seconds(step)
        if batch_timeout:
            params["Timeout"] = {"AttemptDurationSeconds": batch_timeout}
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": BATCH_SUBMIT,
            "Parameters": params,
            "ResultPath": None,
        }
        return self.with_limits(state, step, batch_timeout)

    def with_limits(self, state: dict[str, Any], step: StepPlan, job_timeout: int | None) -> dict[str, Any]:
        """A job Task's state timeout and Retry, the same for Batch and EKS jobs."""
        if job_timeout:
            # Per attempt; generous because the time spent queued for capacity counts too.
            state["TimeoutSeconds"] = job_timeout + 600
        retry = self.retry(step)
        if retry:
            state["Retry"] = retry
        return state

    def job_name(self, step: StepPlan) -> str:
        # Batch job names: [A-Za-z0-9_-]{1,128}, first character alphanumeric.
        import re

        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.plan.flow_name}-{step.name}")
        return name[:128]


def build_definition(plan: FlowPlan, settings: Any, *, jobdef_names: dict[str, str],
                     state_machine_name: str, code_sha256: str = "",
                     code_url: str | None = None) -> dict[str, Any]:
    return AslBuilder(plan, settings, jobdef_names=jobdef_names, state_machine_name=state_machine_name,
                      code_sha256=code_sha256, code_url=code_url).build()
