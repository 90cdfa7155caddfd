"""A local executor for the subset of Argo Workflows that flowc emits, following Argo's documented
semantics (each rule cites the doc it comes from, paths in github.com/argoproj/argo-workflows).

Containers run as local processes: `command + args` is the argv (docs/fields.md, Container:
"command ... not executed within a shell"), `python` stands for the image's interpreter and is run
as this interpreter. A volume mount is simulated by a directory: a ConfigMap volume is its keys
written as files (decoded binaryData), an emptyDir is a fresh directory per pod; any argv entry,
env value or output path under a mount path is rewritten to the directory standing in for it
(a pod sees its own filesystem; local processes share one, so paths must be rewritten).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from .expr import ExprError, evaluate, evaluate_when

from .rules import (ERRORED, FAILED, OMITTED, SKIPPED, SUCCEEDED, WorkflowError, _duration,  # noqa: F401
                    depends_tasks, evaluate_depends, merge_template_defaults, strategic_merge, substitute,
                    substitute_all)

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


# ---------------------------------------------------------------------------------------------
@dataclass
class PodHook:
    """Optional test hook: `match(template) -> bool`, `run(template, argv, env) -> exit code`."""
    match: Callable[[dict], bool]
    run: Callable[[dict, list[str], dict[str, str]], int]


class Executor:
    def __init__(self, documents: list[dict], arguments: dict[str, str] | None = None, *,
                 workdir: str | None = None, backoff_scale: float = 0.0, secrets: dict | None = None,
                 extra_env: dict[str, str] | None = None, log: Callable[[str], None] | None = None):
        self.wt = next(d for d in documents if d["kind"] in ("WorkflowTemplate", "Workflow"))
        self.configmaps = {d["metadata"]["name"]: d for d in documents if d["kind"] == "ConfigMap"}
        self.spec = self.wt["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.workdir = workdir or tempfile.mkdtemp(prefix="argo-exec-")
        os.makedirs(self.workdir, exist_ok=True)
        self.backoff_scale = backoff_scale
        self.secrets = secrets or {}
        self.extra_env = extra_env or {}
        self.log = log or (lambda line: None)
        # workflow.name: a Workflow created from a WorkflowTemplate gets generateName `<name>-`
        # plus a random suffix (docs/workflow-templates.md)
        self.name = "%s-%s" % (self.wt["metadata"]["name"][:50], uuid.uuid4().hex[:5])
        self.uid = str(uuid.uuid4())
        self.params = self._workflow_parameters(arguments or {})
        # spec.parallelism: "limits the max total parallel pods that can execute at the same time"
        # (docs/fields.md, WorkflowSpec)
        parallelism = self.spec.get("parallelism")
        self.pod_slots = threading.BoundedSemaphore(int(parallelism)) if parallelism else None
        deadline = self.spec.get("activeDeadlineSeconds")
        # WorkflowSpec.activeDeadlineSeconds: "Optional duration in seconds relative to the
        # workflow start time which the workflow is allowed to run" (docs/fields.md)
        self.deadline = time.monotonic() + int(deadline) if deadline else None
        self.pods: list[dict] = []
        self.hooks: list[PodHook] = []
        self._lock = threading.Lock()
        self._cm_dirs: dict[str, str] = {}

    # --- workflow parameters (docs/walk-through/parameters.md; a parameter without a value that
    # the submission does not give cannot be resolved: the workflow fails)
    def _workflow_parameters(self, given: dict[str, str]) -> dict[str, str]:
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

    def global_scope(self) -> dict[str, str]:
        # docs/variables.md, "Global": workflow.name, workflow.uid, workflow.parameters.<NAME>
        scope = {"workflow.name": self.name, "workflow.uid": self.uid}
        scope.update({f"workflow.parameters.{k}": v for k, v in self.params.items()})
        return scope

    # --- run ------------------------------------------------------------------------------------
    def run(self) -> Node:
        root = self.execute(self.spec["entrypoint"], {}, "root")
        return root

    def execute(self, template_name: str, arguments: dict[str, str], node_name: str) -> Node:
        node = Node(node_name)
        try:
            template = self.templates[template_name]
            inputs = self._inputs(template, arguments)
            if "dag" in template:
                self._run_dag(template, inputs, node)
            elif "container" in template:
                self._run_container(template, inputs, node)
            else:
                raise WorkflowError(f"template {template_name}: unsupported type")
        except (WorkflowError, OSError) as e:
            node.phase, node.message = ERRORED, str(e)
            self.log(f"{node_name}: Error: {e}")
        return node

    def _inputs(self, template: dict, arguments: dict[str, str]) -> dict[str, str]:
        # docs/walk-through/parameters.md: input parameters take the caller's arguments; a default
        # `value` applies when none is given; without either the template cannot run.
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
    def _run_dag(self, template: dict, inputs: dict[str, str], node: Node) -> None:
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        nodes: dict[str, Node] = {}
        started: set[str] = set()
        cond = threading.Condition()
        threads = []
        fail_fast = template["dag"].get("failFast", True)   # docs/fields.md DAGTemplate.failFast (default true)

        def deps_of(task):
            if "depends" in task:
                return depends_tasks(task["depends"])
            return list(task.get("dependencies", []))

        def run_task(task, scope):
            try:
                result = self._run_task(task, scope, inputs, nodes)
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
                        continue        # failFast: no new tasks after a failure
                    started.add(name)
                    if "depends" in task:
                        go = evaluate_depends(task["depends"], nodes)
                    else:
                        # `dependencies`: run when each dependency Succeeded/Skipped/Daemoned
                        # (docs/enhanced-depends-logic.md, compatibility with `dependencies`)
                        go = all(nodes[d].phase in (SUCCEEDED, SKIPPED) for d in deps)
                    if not go:
                        # "Omitted: Task's depends condition evaluated to false"
                        nodes[name] = Node(name, OMITTED)
                        continue
                    scope = self._task_scope(inputs, nodes, tasks)
                    t = threading.Thread(target=run_task, args=(task, scope), daemon=True)
                    threads.append(t)
                    t.start()
                running = len(started) - len([n for n in nodes if n in started])
                if running == 0 and (len(started) == len(tasks) or failed):
                    break
                if running == 0:
                    # nothing runs and nothing can start: the remaining tasks wait on tasks that
                    # never ran (a failure with failFast)
                    break
                cond.wait()
        for t in threads:
            t.join()
        node.children = list(nodes.values())
        # a DAG fails when one of its tasks failed or errored (docs/walk-through/dag.md; with
        # depends a failure that another task handles via .Failed is not special-cased here)
        bad = [n for n in nodes.values() if n.phase in (FAILED, ERRORED)]
        if bad:
            node.phase = FAILED
            node.message = "; ".join(f"{n.name}: {n.phase} {n.message}" for n in bad)
            return
        node.phase = SUCCEEDED
        node.outputs = self._dag_outputs(template, inputs, nodes)

    def _task_scope(self, inputs, nodes, tasks=None) -> dict[str, str]:
        # docs/variables.md, "DAG Templates": inputs.parameters.<NAME>, tasks.<TASKNAME>.outputs.parameters.<NAME>
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
        """Output parameter names the task's template declares."""
        template = self.templates.get(task["template"]) if task else None
        return [p["name"] for p in ((template or {}).get("outputs") or {}).get("parameters", [])]

    def _expr_env(self, inputs, nodes) -> dict[str, Any]:
        env = {"inputs": {"parameters": dict(inputs)},
               "workflow": {"name": self.name, "uid": self.uid, "parameters": dict(self.params)},
               "tasks": {}}
        for name, n in nodes.items():
            if n.phase in (SKIPPED, OMITTED):
                continue        # an absent output is nil in an expression (docs/variables.md)
            env["tasks"][name] = {"status": n.phase, "outputs": {"parameters": dict(n.outputs)}}
        return env

    def _run_task(self, task: dict, scope: dict[str, str], inputs, nodes) -> Node:
        name = task["name"]
        env = self._expr_env(inputs, nodes)
        try:
            if "when" in task:
                # docs/walk-through/conditionals.md: `when` is substituted, then evaluated
                # (govaluate); false -> the task is Skipped
                text = substitute(task["when"], scope, env)
                if not evaluate_when(text):
                    return Node(name, SKIPPED)
            items = self._items(task, scope, env)
        except (WorkflowError, ExprError) as e:
            return Node(name, ERRORED, message=str(e))
        args_spec = (task.get("arguments") or {}).get("parameters", [])
        if items is None:
            return self._call(task, args_spec, scope, env, name)
        if not items:
            # docs/fields.md (DAGTask withItems/withParam): an empty list expands to no children;
            # Argo marks the task Skipped ("Skipped, empty params")
            return Node(name, SKIPPED, fanned_out=True)
        children: list[Node | None] = [None] * len(items)

        def child(i, item):
            try:
                _child(i, item)
            except Exception as e:
                children[i] = Node(f"{name}({i})", ERRORED, message=f"executor: {type(e).__name__}: {e}")

        def _child(i, item):
            s = dict(scope)
            if isinstance(item, dict):
                # docs/loops.md: {{item.<key>}} for maps
                s.update({f"item.{k}": str(v) for k, v in item.items()})
            s["item"] = item if isinstance(item, str) else json.dumps(item)
            children[i] = self._call(task, args_spec, s, env, f"{name}({i}:{s['item']})")

        threads = [threading.Thread(target=child, args=(i, it), daemon=True) for i, it in enumerate(items)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        node = Node(name, fanned_out=True, children=children)
        bad = [c for c in children if c.phase in (FAILED, ERRORED)]
        node.phase = FAILED if bad else SUCCEEDED
        node.message = "; ".join(c.message for c in bad[:3])
        # docs/variables.md: for withItems/withParam/withSequence, outputs.parameters.<NAME> is a
        # JSON array of each child's value
        keys = sorted({k for c in children for k in c.outputs})
        node.outputs = {k: json.dumps([c.outputs.get(k) for c in children]) for k in keys}
        return node

    def _items(self, task, scope, env):
        # docs/loops.md and docs/fields.md (Sequence): withItems (a list), withParam (a JSON list
        # string), withSequence (count or start/end, numbers as strings, format)
        if "withItems" in task:
            return substitute_all(task["withItems"], scope, env)
        if "withParam" in task:
            value = json.loads(substitute(task["withParam"], scope, env))
            if not isinstance(value, list):
                raise WorkflowError("withParam is not a JSON list")
            return value
        if "withSequence" in task:
            seq = substitute_all(task["withSequence"], scope, env)
            fmt = seq.get("format")
            if "count" in seq:
                start = int(seq.get("start", 0))
                numbers = range(start, start + int(seq["count"]))
            else:
                start, end = int(seq.get("start", 0)), int(seq["end"])
                numbers = range(start, end + 1) if end >= start else range(start, end - 1, -1)
            return [(fmt % n) if fmt else str(n) for n in numbers]
        return None

    def _call(self, task, args_spec, scope, env, node_name) -> Node:
        try:
            arguments = {}
            for p in args_spec:
                if "value" not in p:
                    raise WorkflowError(f"argument {p['name']} has no value")
                arguments[p["name"]] = substitute(p["value"], scope, env)
        except WorkflowError as e:
            return Node(node_name, ERRORED, message=str(e))
        return self.execute(task["template"], arguments, node_name)

    def _dag_outputs(self, template, inputs, nodes) -> dict[str, str]:
        # docs/fields.md (ValueFrom) and examples/dag-conditional-parameters.yaml: `parameter` (a
        # reference) or `expression` (expr-lang over
        # the template's tasks), `default` when absent or failing
        out = {}
        env = self._expr_env(inputs, nodes)
        scope = self._task_scope(inputs, nodes, {t["name"]: t for t in template["dag"]["tasks"]})
        for p in (template.get("outputs") or {}).get("parameters", []):
            vf = p.get("valueFrom") or {}
            try:
                if "expression" in vf:
                    value = evaluate(vf["expression"], env)
                    if value is None:
                        raise ExprError("nil")
                    out[p["name"]] = value if isinstance(value, str) else json.dumps(value)
                elif "parameter" in vf:
                    out[p["name"]] = substitute(vf["parameter"], scope, env)
                else:
                    raise WorkflowError(f"output {p['name']}: unsupported valueFrom")
            except (ExprError, WorkflowError) as e:
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
                            raise WorkflowError(f"configmap {cm_name} not found")
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
        limit = int(substitute(str(retry.get("limit", 0)), self.global_scope(), {})) if retry else 0
        # docs/retries.md: retryPolicy Always | OnFailure (the default) | OnError | OnTransientError
        policy = (retry or {}).get("retryPolicy", "OnFailure")
        attempt = 0
        while True:
            phase, outputs, message = self._run_pod(template, inputs, attempt, retry is not None)
            node.attempts = attempt + 1
            if phase == SUCCEEDED:
                node.phase, node.outputs = SUCCEEDED, outputs
                return
            retryable = (policy == "Always" or (policy == "OnFailure" and phase == FAILED)
                         or (policy in ("OnError", "OnTransientError") and phase == ERRORED))
            if attempt >= limit or not retryable:
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

    def _run_pod(self, template, inputs, attempt, has_retry) -> tuple[str, dict, str]:
        scope = self.global_scope()
        scope.update({f"inputs.parameters.{k}": v for k, v in inputs.items()})
        if has_retry:
            # docs/variables.md, "Containers/Script Templates": retries "The retry number of the
            # container/script if retryStrategy is specified"
            scope["retries"] = str(attempt)
        env_expr = {"inputs": {"parameters": dict(inputs)},
                    "workflow": {"name": self.name, "uid": self.uid, "parameters": dict(self.params)}}
        pod_dir = tempfile.mkdtemp(prefix="pod-", dir=self.workdir)
        container = substitute_all(template["container"], scope, env_expr)
        mounts = {}
        dirs = self._volume_dirs(template, pod_dir)
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

        argv = [rewrite(a) for a in list(container.get("command") or []) + list(container.get("args") or [])]
        if not argv:
            raise WorkflowError("container has no command")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": pod_dir, **self.extra_env}
        for e in container.get("env", []):
            if "value" not in e:
                raise WorkflowError(f"env {e['name']}: only literal values are supported")
            env[e["name"]] = ":".join(rewrite(part) for part in e["value"].split(":")) if e["name"] == "PYTHONPATH" else rewrite(e["value"])
        for source in container.get("envFrom", []):
            secret = (source.get("secretRef") or {}).get("name")
            if secret not in self.secrets:
                return ERRORED, {}, f"secret {secret} not found (CreateContainerConfigError)"
            env.update(self.secrets[secret])
        if argv[0] == "python":
            argv[0] = sys.executable
        deadline = template.get("activeDeadlineSeconds")
        # Template.activeDeadlineSeconds: "Optional duration in seconds relative to the StartTime
        # that the pod may be active on a node before the system actively tries to terminate the
        # pod" (docs/fields.md, Template)
        timeout = int(deadline) if deadline not in (None, "") else None
        if self.deadline is not None:
            remaining = max(1, int(self.deadline - time.monotonic()))
            timeout = remaining if timeout is None else min(timeout, remaining)
        record = {"template": template["name"], "argv": argv, "env": env, "attempt": attempt}
        with self._lock:
            self.pods.append(record)
        if self.pod_slots:
            self.pod_slots.acquire()
        try:
            hook = next((h for h in self.hooks if h.match(template)), None)
            if hook is not None:
                code = hook.run(template, argv, env)
                out = ""
            else:
                try:
                    proc = subprocess.run(argv, env=env, cwd=pod_dir, stdout=subprocess.PIPE,
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
            # a non-zero exit code makes the node Failed (docs/enhanced-depends-logic.md: "Failed:
            # Task exited with a non-0 exit code")
            return FAILED, {}, f"exit code {code}: {out[-2000:]}"
        outputs = {}
        for p in (template.get("outputs") or {}).get("parameters", []):
            vf = p.get("valueFrom") or {}
            if "path" not in vf:
                return ERRORED, {}, f"output {p['name']}: unsupported valueFrom"
            path = host(substitute(vf["path"], scope, env_expr))
            # docs/walk-through/output-parameters.md: the parameter's value is the file's content;
            # a missing file uses valueFrom.default, else the node errors
            try:
                with open(path) as f:
                    outputs[p["name"]] = f.read()
            except OSError:
                if "default" in vf:
                    outputs[p["name"]] = vf["default"]
                else:
                    return ERRORED, {}, f"output {p['name']}: {vf['path']} not found"
        return SUCCEEDED, outputs, ""

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)
