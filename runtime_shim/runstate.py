"""Run-level records kept beside a run, outside `<Flow>/runs/` (which holds only steps):
`<Flow>/meta/<run id>/aborted.json` is written by `flowc run` when a signal or a closed output
stopped the run; `aborted()` reads it back (None for a run that was not aborted)."""
import json
import time


def _key(ds, run_id):
    return "%s/meta/%s/aborted.json" % (ds.flow_name, run_id)


def mark_aborted(ds, run_id, reason):
    body = json.dumps({"reason": reason, "time": time.time()}, sort_keys=True).encode()
    ds.storage.write(_key(ds, run_id), [body])


def aborted(ds, run_id):
    raw = ds.storage.read(_key(ds, run_id))
    return json.loads(bytes(raw)) if raw is not None else None
