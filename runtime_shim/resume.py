"""Resume, decided per task inside the runtime, so every engine resumes the same way.

Whoever starts a run may write its run options (FlowDatastore.write_run_options) before the first
task: `origin_run_id` and `rerun`, the steps to run again. A task of a step that is neither one of
those nor after one in the graph, and whose task (same deterministic task id: step, foreach index
path, iteration) completed in the origin run, is cloned: its manifest is written again under the
new run, artifacts by content hash (nothing copied). Any other task runs.
"""
from __future__ import annotations

import time


def successors(spec: dict, step: str) -> list[str]:
    s = spec["steps"][step]
    out = list(s.get("next") or []) + list((s.get("cases") or {}).values())
    if s.get("matching_join"):
        out.append(s["matching_join"])
    return [n for n in out if n in spec["steps"]]


def rerun_set(spec: dict, roots) -> set:
    """The steps `roots` and every step reachable from them."""
    seen: set = set()
    todo = [r for r in roots if r in spec["steps"]]
    while todo:
        step = todo.pop()
        if step in seen:
            continue
        seen.add(step)
        todo.extend(successors(spec, step))
    return seen


def clone_source(ds, options: dict, spec: dict, step: str, task_id: str):
    """The origin's completed manifest this task clones, or None when the task must run."""
    origin = options.get("origin_run_id")
    if not origin or step in rerun_set(spec, options.get("rerun") or ()):
        return None
    return ds.read_manifest(origin, step, task_id)


def clone(ds, source: dict, run_id: str, attempt: int) -> dict:
    now = time.time()
    # a clone of a clone names the run that really ran the task (its logs are there)
    if source.get("origin_run_id"):
        origin, origin_attempt = source["origin_run_id"], source.get("origin_attempt", 0)
    else:
        origin, origin_attempt = source["run_id"], source["attempt"]
    manifest = dict(source, run_id=run_id, attempt=attempt, started_at=now, finished_at=now,
                    origin_run_id=origin, origin_attempt=origin_attempt)
    ds.write_task(manifest)
    return manifest
