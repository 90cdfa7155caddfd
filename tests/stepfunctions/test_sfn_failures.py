"""A failure inside a distributed Map fails the execution, as on AWS (a Map without a tolerated
failure count fails when one item fails), and nothing after it runs."""
from __future__ import annotations

import uuid

from compiler.pipeline import compile_file
from tests.stepfunctions import helpers as h
from tests.stepfunctions.moto_sfn import JOBS

FLOW = '''
from metaflow import FlowSpec, step


class FailingItemFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        if self.input == 1:
            raise RuntimeError("item one fails")
        self.out = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.out for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_a_failing_foreach_item_fails_the_execution(sfn_moto, tmp_path):
    path = tmp_path / "failing_item.py"
    path.write_text(FLOW)
    settings = h.make_settings(datastore="s3://flowc-sfn-fail/ds", s3_endpoint=sfn_moto.endpoint,
                               batch_queue="flowc-queue", batch_job_role_arn=None, sfn_role_arn=None)
    result = compile_file(str(path), "stepfunctions", settings=settings)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    arn = sfn_moto.deploy(result, name="failing-item-" + uuid.uuid4().hex[:8])
    run_id = "r" + uuid.uuid4().hex[:12]
    before = len(JOBS.jobs)
    desc = sfn_moto.run(arn, run_id, {}, timeout=240)
    jobs = [j for j in JOBS.jobs[before:] if run_id in j.get("argv", [])]
    steps = sorted(j["argv"][j["argv"].index("--step") + 1] for j in jobs)
    assert desc["status"] == "FAILED", (desc["status"], steps)
    # the Map fails as a Map does on AWS, and names the failed item and its error
    assert desc["error"] == "States.ExceedToleratedFailureThreshold", desc
    assert "1 of 3 items failed; item 1: " in desc["cause"] and "States.TaskFailed" in desc["cause"], desc["cause"][:500]
    assert "join" not in steps and "end" not in steps, steps
    failed = [j for j in jobs if j.get("exit_code")]
    assert len(failed) == 1 and "item one fails" in failed[0].get("stderr", "")
