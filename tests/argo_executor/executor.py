"""A local executor for the subset of Argo Workflows that flowc emits, as strict as Argo's
controller (github.com/argoproj/argo-workflows v3.5.15 and v4.1.2; each rule cites the source file
and function it follows; the table is in compiler/targets/argo/README.md).

Containers run as local processes: `command + args` is the argv (docs/fields.md, Container:
"command ... not executed within a shell"). `python` is the image's interpreter: a stdlib-only
venv (tests/stdlib_python.py), as in the default `python:3.11` image, unless the test maps the
step's image to another interpreter (`images`). Each pod gets a fresh, empty working directory and
its own TMPDIR (no code package cached by an earlier pod), and an environment of only PATH, HOME,
its container env and what the test adds. A volume mount is simulated by a directory: a ConfigMap
volume is its keys written as files, an emptyDir a fresh directory per pod; argv entries, env
values and output paths under a mount path are rewritten to that directory.

Modelled controller rules:
- substitution: `SubstituteParams` (two Replace passes) and `substitutePodParams` (substitution.py);
  the DAG task pass (dag.go `resolveDependencyReferences`, one Replace over the task);
- stack depth: controller.go `maxAllowedStackDepth = 100`, operator.go `executeTemplate`;
- `depends`: expr-lang over task results (rules.py `evaluate_depends`);
- workflow deadline: workflowpod.go `createWorkflowPod`: `if wfActiveDeadlineSeconds <= 0 { return
  nil, nil }` -- no pod is created once the deadline has passed; a pod gets the remaining seconds
  as its activeDeadlineSeconds;
- failFast: operator.go `checkParallelism`: only the template-level `failFast` (Template.IsFailFast,
  default false) stops new pods after a failed child; DAGTemplate.failFast (dag.go
  `assessDAGPhase`) only decides when the DAG is marked failed, and a DAG stays Running while any
  child runs, so the other ready tasks still start;
- a pod whose Secret (envFrom) or ConfigMap volume is missing is never started by the kubelet: it
  stays Pending (CreateContainerConfigError / ContainerCreating) until its activeDeadlineSeconds, if
  any; the executor watches it for `pending_seconds` and reports it Pending;
- exec limits (rules.py `exec_problem`): one argv/env string over 128 KiB, or all over 2 MiB, is
  E2BIG; on v3.5 (`argo_version="3.5"`) workflowpod.go puts the template's JSON in every
  container's env as ARGO_TEMPLATE, so that string counts too (v4.1 offloads an oversized
  ARGO_TEMPLATE and args to a ConfigMap, workflowpod.go `offloadEnvVarTemplate`, but the final
  execve of the user command keeps the single-string limit).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from tests.stdlib_python import clean_env, interpreter_for, task_sandbox

from .expr import ExprError, evaluate, evaluate_when
from .rules import (ERRORED, FAILED, MAX_DEPTH_MESSAGE, MAX_STACK_DEPTH, OMITTED, PENDING, RUNNING,  # noqa: F401
                    SKIPPED, SUCCEEDED, WorkflowError, _duration, depends_tasks, evaluate_depends, exec_problem,
                    merge_template_defaults, strategic_merge, unknown_tags)
from .substitution import (SubstitutionError, dumps, expr_env, replace, substitute_params,
                           substitute_pod_params)

FULFILLED = {SUCCEEDED, FAILED, ERRORED, SKIPPED, OMITTED}


@dataclass
class Node:
    name: str
    phase: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)   # parameter name -> value
    children: list["Node"] = field(default_factory=list)
    message: str = ""
    fanned_out: bool = False
    attempts: int = 0


@dataclass
class PodHook:
    """Optional test hook: `match(template) -> bool`, `run(template, argv, env) -> exit code`."""
    match: Callable[[dict], bool]
    run: Callable[[dict, list[str], dict[str, str]], int]


class _Pending(Exception):
    pass


class Executor:
    def __init__(self, documents: list[dict], arguments: dict[str, str] | None = None, *,
                 workdir: str | None = None, backoff_scale: float = 0.0, secrets: dict | None = None,
                 extra_env: dict[str, str] | None = None, log: Callable[[str], None] | None = None,
                 images: dict[str, str] | None = None, argo_version: str = "4.1",
                 pending_seconds: float = 1.0, name: str | None = None):
        self.wt = next(d for d in documents if d["kind"] in ("WorkflowTemplate", "Workflow"))
        self.configmaps = {d["metadata"]["name"]: d for d in documents if d["kind"] == "ConfigMap"}
        self.spec = self.wt["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.workdir = workdir or tempfile.mkdtemp(prefix="argo-exec-")
        os.makedirs(self.workdir, exist_ok=True)
        self.backoff_scale = backoff_scale
        self.secrets = secrets or {}
        self.extra_env = extra_env or {}
        self.images = images or {}
        self.argo_version = argo_version
        self.pending_seconds = pending_seconds
        self.log = log or (lambda line: None)
        # workflow.name: a Workflow created from a WorkflowTemplate gets generateName `<name>-`
        # plus a random suffix (docs/workflow-templates.md); `name` stands for a chosen one
        self.name = name or "%s-%s" % (self.wt["metadata"]["name"][:50], uuid.uuid4().hex[:5])
        self.uid = str(uuid.uuid4())
        self.params = self._workflow_parameters(arguments or {})
        # spec.parallelism: "limits the max total parallel pods that can execute at the same time"
        parallelism = self.spec.get("parallelism")
        self.pod_slots = threading.BoundedSemaphore(int(parallelism)) if parallelism else None
        deadline = self.spec.get("activeDeadlineSeconds")
        # operator.go getWorkflowDeadline: startedAt + spec.activeDeadlineSeconds
        self.deadline = time.monotonic() + int(deadline) if deadline else None
        self.pods: list[dict] = []
        self.status: str | None = None          # workflow.status, set before the onExit handler runs
        self.exit_node: Node | None = None
        self.hooks: list[PodHook] = []
        self._lock = threading.Lock()
        self._cm_dirs: dict[str, str] = {}
        self._validate()
        self._global_pass()

    def _validate(self) -> None:
        """validate.go: a template tag that names no variable refuses the submission (as a node
        Error here, so tests can look at it)."""
        self.invalid: dict[str, str] = {}
        names = set(self.global_scope())
        for name, t in self.templates.items():
            bad = unknown_tags(merge_template_defaults(self.spec.get("templateDefaults"), t), names)
            if bad:
                self.invalid[name] = "failed to resolve {{%s}}" % bad[0]

    def _global_pass(self) -> None:
        """operator.go setExecWorkflow -> substituteGlobalVariables: one Replace over the spec
        without its templates, after setGlobalParameters read the raw values (so its result is not
        what templates see). If it fails (a `{{` with no `}}` after it), every reconciliation fails
        and the workflow never progresses."""
        spec = {k: v for k, v in self.spec.items() if k != "templates"}
        spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in self.params.items()]}
        try:
            replace(dumps(spec), self.global_scope())
        except SubstitutionError as e:
            raise WorkflowError(f"the workflow never starts: substituteGlobalVariables: {e}") from None

    def _workflow_parameters(self, given: dict[str, str]) -> dict[str, str]:
        # docs/walk-through/parameters.md; a parameter without a value that the submission does
        # not give cannot be resolved: the workflow fails
        out = {}
        declared = self.spec.get("arguments", {}).get("parameters", [])
        names = {p["name"] for p in declared}
        for k in given:
            if k not in names:
                raise WorkflowError(f"unknown workflow parameter {k}")
        for p in declared:
            if p["name"] in given:
                out[p["name"]] = str(given[p["name"]])
            elif "value" in p:
                out[p["name"]] = p["value"]
            else:
                raise WorkflowError(f"spec.arguments.{p['name']}.value is required")
        return out

    @property
    def run_id(self) -> str:
        """The run id the compiled workflow gives its tasks (templates.RUN_ID)."""
        return f"{self.name}-{self.uid}"

    def global_scope(self) -> dict[str, str]:
        # operator.go setGlobalParameters: workflow.name, .namespace, .uid, workflow.parameters
        # (all, as JSON) and workflow.parameters.<NAME> (the raw values)
        scope = {"workflow.name": self.name, "workflow.uid": self.uid, "workflow.namespace": "default",
                 "workflow.parameters": json.dumps([{"name": k, "value": v} for k, v in self.params.items()])}
        scope.update({f"workflow.parameters.{k}": v for k, v in self.params.items()})
        if self.spec.get("onExit"):
            # validate.go ValidateWorkflow: with an onExit handler, workflow.status (and
            # .failures) are known names; docs/variables.md "Exit Handler": workflow.status is
            # Succeeded, Failed or Error once the workflow's templates are done
            scope["workflow.status"] = self.status or "Running"
            scope["workflow.failures"] = "[]"
        return scope

    # --- run ------------------------------------------------------------------------------------
    def run(self) -> Node:
        root = self.execute(self.spec["entrypoint"], {}, "root", 1)
        if self.spec.get("onExit"):
            # docs/exit-handlers.md: the onExit template runs after the workflow, whatever its result
            self.status = {SUCCEEDED: "Succeeded", ERRORED: "Error"}.get(root.phase, "Failed")
            self.exit_node = self.execute(self.spec["onExit"], {}, "root.onExit", 1)
        return root

    def execute(self, template_name: str, arguments: dict[str, str], node_name: str, depth: int) -> Node:
        node = Node(node_name)
        try:
            if depth >= MAX_STACK_DEPTH:
                raise WorkflowError(MAX_DEPTH_MESSAGE)
            if template_name in self.invalid:
                raise WorkflowError(self.invalid[template_name])
            template = self.templates[template_name]
            inputs = self._inputs(template, arguments)
            if "dag" in template:
                self._run_dag(template, inputs, node, depth)
            elif "container" in template:
                self._run_container(template, inputs, node)
            else:
                raise WorkflowError(f"template {template_name}: unsupported type")
        except (WorkflowError, SubstitutionError, OSError) as e:
            node.phase, node.message = ERRORED, str(e)
            self.log(f"{node_name}: Error: {e}")
        return node

    def _inputs(self, template: dict, arguments: dict[str, str]) -> dict[str, str]:
        # workflow/common/util.go ProcessArgs: input parameters take the caller's arguments; a
        # default `value` applies when none is given; without either the template cannot run
        out = {}
        for p in (template.get("inputs") or {}).get("parameters", []):
            if p["name"] in arguments:
                out[p["name"]] = arguments[p["name"]]
            elif "value" in p:
                out[p["name"]] = p["value"]
            else:
                raise WorkflowError(f"inputs.parameters.{p['name']} was not supplied")
        return out

    # --- DAG --------------------------------------------------------------------------------------
    def _run_dag(self, template: dict, inputs: dict[str, str], node: Node, depth: int) -> None:
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        nodes: dict[str, Node] = {}
        started: set[str] = set()
        cond = threading.Condition()
        threads = []
        # operator.go checkParallelism: Template.IsFailFast (template-level, default false)
        fail_fast = bool(template.get("failFast"))

        def deps_of(task):
            if "depends" in task:
                return depends_tasks(task["depends"])
            return list(task.get("dependencies", []))

        def run_task(task, scope):
            try:
                result = self._run_task(task, scope, inputs, nodes, depth)
            except Exception as e:  # a bug in the executor must not hang the DAG
                result = Node(task["name"], ERRORED, message=f"executor: {type(e).__name__}: {e}")
            with cond:
                nodes[task["name"]] = result
                cond.notify_all()

        with cond:
            while True:
                failed = any(n.phase in (FAILED, ERRORED) for n in nodes.values())
                for name, task in tasks.items():
                    if name in started:
                        continue
                    deps = deps_of(task)
                    if not all(d in nodes and nodes[d].phase in FULFILLED for d in deps):
                        continue        # a task waits until all the tasks it names are fulfilled
                    if failed and fail_fast:
                        continue
                    started.add(name)
                    try:
                        if "depends" in task:
                            go = evaluate_depends(task["depends"], nodes)
                        else:
                            # `dependencies`: (X.Succeeded || X.Skipped || X.Daemoned) for each
                            go = all(nodes[d].phase in (SUCCEEDED, SKIPPED) for d in deps)
                    except WorkflowError as e:
                        nodes[name] = Node(name, ERRORED, message=str(e))   # dag.go executeDAGTask
                        continue
                    if not go:
                        nodes[name] = Node(name, OMITTED)   # "depends condition evaluated to false"
                        continue
                    scope = self._task_scope(inputs, nodes, tasks)
                    t = threading.Thread(target=run_task, args=(task, scope), daemon=True)
                    threads.append(t)
                    t.start()
                running = len(started) - len([n for n in nodes if n in started])
                if running == 0:
                    break       # all done, or the rest wait on tasks that never ran
                cond.wait()
        for t in threads:
            t.join()
        node.children = list(nodes.values())
        if any(n.phase in (PENDING, RUNNING) for n in nodes.values()):
            node.phase = RUNNING     # assessDAGPhase: a child not fulfilled keeps the DAG Running
            node.message = "; ".join(f"{n.name}: {n.phase} {n.message}" for n in nodes.values()
                                     if n.phase in (PENDING, RUNNING))
            return
        bad = [n for n in nodes.values() if n.phase in (FAILED, ERRORED)]
        if bad:
            node.phase = FAILED
            node.message = "; ".join(f"{n.name}: {n.phase} {n.message}" for n in bad)
            return
        node.phase = SUCCEEDED
        node.outputs = self._dag_outputs(template, inputs, nodes)

    def _task_scope(self, inputs, nodes, tasks=None) -> dict[str, str]:
        # dag.go buildLocalScopeFromTask: inputs.parameters.<NAME>,
        # tasks.<TASK>.outputs.parameters.<NAME>, tasks.<TASK>.status
        scope = self.global_scope()
        scope.update({f"inputs.parameters.{k}": v for k, v in inputs.items()})
        for name, n in nodes.items():
            if n.phase in (SKIPPED, OMITTED):
                # docs/enhanced-depends-logic.md: "references resolve to empty strings"
                for p in self._declared_outputs((tasks or {}).get(name)):
                    scope[f"tasks.{name}.outputs.parameters.{p}"] = ""
                continue
            for k, v in n.outputs.items():
                scope[f"tasks.{name}.outputs.parameters.{k}"] = v
            scope[f"tasks.{name}.status"] = n.phase
        return scope

    def _declared_outputs(self, task):
        template = self.templates.get(task["template"]) if task else None
        return [p["name"] for p in ((template or {}).get("outputs") or {}).get("parameters", [])]

    def _run_task(self, task: dict, scope: dict[str, str], inputs, nodes, depth: int) -> Node:
        name = task["name"]
        try:
            # dag.go resolveDependencyReferences: one Replace over the task's JSON
            task = json.loads(replace(dumps(task), scope))
            if "when" in task:
                # dag.go shouldExecute: govaluate over the substituted `when`; false -> Skipped
                if not evaluate_when(task["when"]):
                    return Node(name, SKIPPED)
            items = self._items(task)
        except (WorkflowError, ExprError, SubstitutionError) as e:
            return Node(name, ERRORED, message=str(e))
        if items is None:
            return self._call(task, {}, name, depth)
        if not items:
            # an empty list expands to no children; Argo marks the task Skipped
            return Node(name, SKIPPED, fanned_out=True)
        children: list[Node | None] = [None] * len(items)

        def child(i, item):
            try:
                values = {"item": item if isinstance(item, str) else json.dumps(item)}
                if isinstance(item, dict):
                    values.update({f"item.{k}": str(v) for k, v in item.items()})   # docs/loops.md
                children[i] = self._call(task, values, f"{name}({i}:{values['item']})", depth)
            except Exception as e:
                children[i] = Node(f"{name}({i})", ERRORED, message=f"executor: {type(e).__name__}: {e}")

        threads = [threading.Thread(target=child, args=(i, it), daemon=True) for i, it in enumerate(items)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        node = Node(name, fanned_out=True, children=children)
        bad = [c for c in children if c.phase in (FAILED, ERRORED)]
        waiting = [c for c in children if c.phase in (PENDING, RUNNING)]
        node.phase = RUNNING if waiting else FAILED if bad else SUCCEEDED
        node.message = "; ".join(c.message for c in (waiting or bad)[:3])
        # docs/variables.md: outputs.parameters.<NAME> of a fan-out is a JSON array of the children's
        keys = sorted({k for c in children for k in c.outputs})
        node.outputs = {k: json.dumps([c.outputs.get(k) for c in children]) for k in keys}
        return node

    def _items(self, task):
        # docs/loops.md and docs/fields.md (Sequence): withItems, withParam (a JSON list string),
        # withSequence (count or start/end, numbers as strings, format)
        if "withItems" in task:
            return task["withItems"]
        if "withParam" in task:
            value = json.loads(task["withParam"])
            if not isinstance(value, list):
                raise WorkflowError("withParam is not a JSON list")
            return value
        if "withSequence" in task:
            seq = task["withSequence"]
            fmt = seq.get("format")
            if "count" in seq:
                start = int(seq.get("start", 0))
                numbers = range(start, start + int(seq["count"]))
            else:
                start, end = int(seq.get("start", 0)), int(seq["end"])
                numbers = range(start, end + 1) if end >= start else range(start, end - 1, -1)
            return [(fmt % n) if fmt else str(n) for n in numbers]
        return None

    def _call(self, task, item_values, node_name, depth) -> Node:
        try:
            arguments = {}
            for p in (task.get("arguments") or {}).get("parameters", []):
                if "value" not in p:
                    raise WorkflowError(f"argument {p['name']} has no value")
                # dag.go expandTask: `{{item}}` replaced in the task's JSON (one more Replace)
                arguments[p["name"]] = json.loads(replace(dumps(p["value"]), item_values)) if item_values else p["value"]
        except (WorkflowError, SubstitutionError) as e:
            return Node(node_name, ERRORED, message=str(e))
        return self.execute(task["template"], arguments, node_name, depth + 1)

    def _dag_outputs(self, template, inputs, nodes) -> dict[str, str]:
        # operator.go getTemplateOutputsFromScope: `parameter` (a reference) or `expression`
        # (expr-lang over the template's tasks), `default` when absent or failing
        out = {}
        scope = self._task_scope(inputs, nodes, {t["name"]: t for t in template["dag"]["tasks"]})
        env = expr_env(scope)
        for p in (template.get("outputs") or {}).get("parameters", []):
            vf = p.get("valueFrom") or {}
            try:
                if "expression" in vf:
                    value = evaluate(vf["expression"], env)
                    if value is None:
                        raise ExprError("nil")
                    out[p["name"]] = value if isinstance(value, str) else json.dumps(value)
                elif "parameter" in vf:
                    out[p["name"]] = json.loads(replace(dumps(vf["parameter"]), scope, allow_unresolved=False))
                else:
                    raise WorkflowError(f"output {p['name']}: unsupported valueFrom")
            except (ExprError, WorkflowError, SubstitutionError) as e:
                if "default" in vf:
                    out[p["name"]] = vf["default"]
                else:
                    raise WorkflowError(f"output {p['name']}: {e}") from None
        return out

    # --- containers ---------------------------------------------------------------------------
    def _volume_dirs(self, template: dict, pod_dir: str) -> dict[str, str]:
        volumes = {v["name"]: v for v in self.spec.get("volumes", []) + template.get("volumes", [])}
        dirs = {}
        for name, v in volumes.items():
            if "configMap" in v:
                cm_name = v["configMap"]["name"]
                with self._lock:
                    if cm_name not in self._cm_dirs:
                        cm = self.configmaps.get(cm_name)
                        if cm is None:
                            # the kubelet cannot mount it: the pod stays ContainerCreating (Pending)
                            raise _Pending(f"configmap {cm_name} not found (FailedMount)")
                        d = os.path.join(self.workdir, "configmaps", cm_name)
                        os.makedirs(d, exist_ok=True)
                        for key, data in (cm.get("binaryData") or {}).items():
                            with open(os.path.join(d, key), "wb") as f:
                                f.write(base64.b64decode(data))
                        for key, data in (cm.get("data") or {}).items():
                            with open(os.path.join(d, key), "w") as f:
                                f.write(data)
                        self._cm_dirs[cm_name] = d
                dirs[name] = self._cm_dirs[cm_name]
            elif "emptyDir" in v or "persistentVolumeClaim" in v:
                d = os.path.join(pod_dir, "volumes", name)
                os.makedirs(d, exist_ok=True)
                dirs[name] = d
            else:
                raise WorkflowError(f"volume {name}: unsupported source")
        return dirs

    def _run_container(self, template: dict, inputs: dict[str, str], node: Node) -> None:
        template = merge_template_defaults(self.spec.get("templateDefaults"), template)
        retry = template.get("retryStrategy")
        limit = int(replace(dumps(str(retry.get("limit", 0))), self.global_scope()).strip('"')) if retry else 0
        # docs/retries.md: retryPolicy Always | OnFailure (the default) | OnError | OnTransientError
        policy = (retry or {}).get("retryPolicy", "OnFailure")
        attempt = 0
        while True:
            phase, outputs, message = self._run_pod(template, inputs, attempt, retry is not None)
            node.attempts = attempt + 1
            if phase in (SUCCEEDED, PENDING):
                node.phase, node.outputs, node.message = phase, outputs, message
                return
            retryable = (policy == "Always" or (policy == "OnFailure" and phase == FAILED)
                         or (policy in ("OnError", "OnTransientError") and phase == ERRORED))
            if attempt >= limit or not retryable or message.startswith("no pod:"):
                node.phase, node.message = phase, message
                return
            # docs/retries.md "Back-Off": duration, factor, maxDuration between attempts
            backoff = (retry or {}).get("backoff") or {}
            if backoff.get("duration"):
                seconds = _duration(backoff["duration"]) * (float(backoff.get("factor", 1)) ** attempt)
                if backoff.get("maxDuration"):
                    seconds = min(seconds, _duration(backoff["maxDuration"]))
                time.sleep(seconds * self.backoff_scale)
            attempt += 1

    def _prepare(self, template, inputs, attempt, has_retry):
        """ProcessArgs + SubstituteParams + createWorkflowPod + substitutePodParams."""
        t = json.loads(dumps(template))
        for p in (t.get("inputs") or {}).get("parameters", []):
            p["value"] = inputs[p["name"]]
        pod_name = "%s-%s" % (self.name, uuid.uuid4().hex[:10])
        local = {"pod.name": pod_name}
        if has_retry:
            local["retries"] = str(attempt)       # operator.go executeTemplate: LocalVarRetries
        t2 = substitute_params(t, self.global_scope(), local)
        container = dict(t2["container"])
        env = list(container.get("env", []))
        if self.argo_version.startswith("3.5"):
            # workflowpod.go createWorkflowPod: ARGO_TEMPLATE (the template's JSON) in every container
            env.append({"name": "ARGO_TEMPLATE", "value": dumps(t2)})
        container["env"] = env
        pod = {"metadata": {"name": pod_name}, "spec": {"containers": [container]}}
        pod = substitute_pod_params(pod, self.global_scope(), t2, pod_name)
        return t2, pod["spec"]["containers"][0]

    def _run_pod(self, template, inputs, attempt, has_retry) -> tuple[str, dict, str]:
        try:
            template, container = self._prepare(template, inputs, attempt, has_retry)
        except SubstitutionError as e:
            return ERRORED, {}, str(e)
        # workflowpod.go createWorkflowPod: the pod's activeDeadlineSeconds is the template's, or
        # the workflow's remaining seconds when fewer; none remaining -> no pod is created
        deadline = template.get("activeDeadlineSeconds")
        timeout = int(deadline) if deadline not in (None, "") else None
        if self.deadline is not None:
            remaining = int(self.deadline - time.monotonic())
            if remaining <= 0:
                return FAILED, {}, "no pod: the workflow deadline has passed (Max duration limit exceeded)"
            timeout = remaining if timeout is None else min(timeout, remaining)
        pod_dir = tempfile.mkdtemp(prefix="pod-", dir=self.workdir)
        try:
            dirs = self._volume_dirs(template, pod_dir)
            for source in container.get("envFrom", []):
                secret = (source.get("secretRef") or {}).get("name")
                if secret not in self.secrets:
                    raise _Pending(f"secret {secret} not found (CreateContainerConfigError)")
        except _Pending as e:
            return self._pending(template, str(e), timeout)
        mounts = {}
        for m in container.get("volumeMounts", []):
            if m["name"] not in dirs:
                raise WorkflowError(f"volume mount {m['name']}: no such volume")
            mounts[m["mountPath"].rstrip("/")] = dirs[m["name"]]

        def host(path: str) -> str:
            for mount, d in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
                if path == mount or path.startswith(mount + "/"):
                    return d + path[len(mount):]
            return path

        def rewrite(value: str) -> str:
            return host(value) if value.startswith("/") else value

        argv = list(container.get("command") or []) + list(container.get("args") or [])
        if not argv:
            raise WorkflowError("container has no command")
        declared_env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
        problem = exec_problem(argv, declared_env)
        if problem:
            # the container's process never starts: the node fails with the exec error
            return FAILED, {}, problem
        declared_env.pop("ARGO_TEMPLATE", None)     # counted above; not handed to the process
        argv = [rewrite(a) for a in argv]
        box = task_sandbox(pod_dir, template["name"])
        env = clean_env({"PATH": os.environ.get("PATH", ""), **box.env, **self.extra_env})
        for k, v in declared_env.items():
            env[k] = ":".join(rewrite(part) for part in v.split(":")) if k == "PYTHONPATH" else rewrite(v)
        for source in container.get("envFrom", []):
            env.update(self.secrets[(source.get("secretRef") or {}).get("name")])
        if argv[0] == "python":
            argv[0] = interpreter_for(container.get("image"), self.images)
        record = {"template": template["name"], "argv": argv, "env": env, "attempt": attempt, "cwd": box.cwd}
        with self._lock:
            self.pods.append(record)
        if self.pod_slots:
            self.pod_slots.acquire()
        try:
            hook = next((h for h in self.hooks if h.match(template)), None)
            if hook is not None:
                code, out = hook.run(template, argv, env), ""
            else:
                try:
                    proc = subprocess.run(argv, env=env, cwd=box.cwd, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, timeout=timeout, text=True)
                    code, out = proc.returncode, proc.stdout
                except subprocess.TimeoutExpired as e:
                    record["log"] = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
                    return FAILED, {}, "Pod was active on the node longer than the specified deadline"
        finally:
            if self.pod_slots:
                self.pod_slots.release()
        record["log"] = out
        record["exit"] = code
        for line in out.splitlines():
            self.log(f"[{template['name']} {inputs}] {line}")
        if code != 0:
            # docs/enhanced-depends-logic.md: "Failed: Task exited with a non-0 exit code"
            return FAILED, {}, f"exit code {code}: {out[-2000:]}"
        outputs = {}
        for p in (template.get("outputs") or {}).get("parameters", []):
            vf = p.get("valueFrom") or {}
            if "path" not in vf:
                return ERRORED, {}, f"output {p['name']}: unsupported valueFrom"
            # docs/walk-through/output-parameters.md: the file's content; a missing file uses
            # valueFrom.default, else the node errors
            try:
                with open(host(vf["path"])) as f:
                    outputs[p["name"]] = f.read()
            except OSError:
                if "default" in vf:
                    outputs[p["name"]] = vf["default"]
                else:
                    return ERRORED, {}, f"output {p['name']}: {vf['path']} not found"
        return SUCCEEDED, outputs, ""

    def _pending(self, template, why: str, timeout: int | None) -> tuple[str, dict, str]:
        """A pod the kubelet cannot start: Pending until its activeDeadlineSeconds (kubelet's
        activeDeadlineHandler counts from status.startTime, set before containers are created)."""
        record = {"template": template["name"], "argv": None, "pending": why}
        with self._lock:
            self.pods.append(record)
        if timeout is not None and timeout <= self.pending_seconds:
            time.sleep(timeout)
            return FAILED, {}, f"Pod was active on the node longer than the specified deadline ({why})"
        time.sleep(self.pending_seconds)
        return PENDING, {}, why

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)
