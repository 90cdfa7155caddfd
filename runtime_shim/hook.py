"""`python -m runtime_shim hook --run-id ID --event success|error --function NAME ... [--datastore URI]`:
run a flow's @exit_hook functions after its run, as Metaflow's exit_hook_script does. A function
is a module-level def of the flow file or a dotted `module.function`; one that takes `run` gets the
run (runtime_shim.client.Run, or None when it cannot be read). Exit 0 when every hook returned,
1 when one raised (each hook runs either way), 2 for bad arguments."""
import importlib
import inspect
import os
import sys
import traceback


def _args(argv):
    out = {"functions": []}
    names = {"--run-id": "run_id", "--event": "event", "--datastore": "datastore", "--function": None,
             "--spec": "spec"}
    it = iter(argv)
    for flag in it:
        if flag not in names:
            raise ValueError("unknown option %s" % flag)
        value = next(it, None)
        if value is None:
            raise ValueError("%s needs a value" % flag)
        if flag == "--function":
            out["functions"].append(value)
        else:
            out[names[flag]] = value
    if not out.get("run_id") or not out["functions"]:
        raise ValueError("--run-id and at least one --function are required")
    return out


def _resolve(name, module):
    if "." in name:
        path, attr = name.rsplit(".", 1)
        return getattr(importlib.import_module(path), attr)
    return getattr(module, name)


def main(argv):
    try:
        a = _args(argv)
    except ValueError as e:
        sys.stderr.write("hook: %s\n" % e)
        return 2
    from runtime_shim import task

    if a.get("datastore"):
        os.environ["FLOWC_DATASTORE"] = a["datastore"]
    spec = task.load_spec(a.get("spec"))
    task.import_flow(spec, task.prepare_flow_dir())
    module = sys.modules["flowc_user_flow"]
    failed = 0
    for name in a["functions"]:
        print("[exit_hook] %s (%s)" % (name, a.get("event", "exit")), flush=True)
        try:
            fn = _resolve(name, module)
            params = inspect.signature(fn).parameters
            if "run" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
                fn(run=_run(spec, a))
            else:
                fn()
        except Exception:  # noqa: BLE001 - a hook's failure is reported; the others still run
            traceback.print_exc()
            failed = 1
    return failed


def _run(spec, a):
    try:
        from runtime_shim.client import Run

        return Run("%s/%s" % (spec["flow_name"], a["run_id"]), datastore=a.get("datastore"))
    except Exception as e:  # noqa: BLE001 - as Metaflow: the hook gets None
        print("[exit_hook] the run cannot be read: %s" % e, flush=True)
        return None
