"""moto Batch jobs that run locally AND log to CloudWatch, as real Batch jobs do.

tests/stepfunctions/moto_sfn.py's `_run_job_locally` (the double that replaces moto's docker
runner with a local process running the job's real command) keeps a job's output in its JobLog
only. `install()` wraps it so that, before the job is marked stopped, the output goes to moto's
CloudWatch Logs backend (group /aws/batch/job, stream `<definition>/default/<job id>`) and the
job's `container.logStreamName` is set: what `flowc run`'s Batch backend reads. Everything else
(statuses, env merge, timeouts, exit codes) is moto_sfn's.
"""
from __future__ import annotations

import time


def install():
    """Install the runner (process-wide, like moto's backends); returns the previous Job.run."""
    from moto.batch import models

    from tests.stepfunctions import moto_sfn

    previous = models.Job.run

    def run(self) -> None:
        real_mark_stopped = self._mark_stopped

        def mark_stopped(success: bool = True) -> None:
            record = next((j for j in reversed(moto_sfn.JOBS.jobs) if j.get("id") == self.job_id), None)
            if record is not None:
                text = (record.get("stdout") or "") + (record.get("stderr") or "")
                now = int(time.time() * 1000)
                events = [{"timestamp": now, "message": line} for line in text.splitlines() if line]
                self._log_backend.ensure_log_group(self._log_group)
                self._log_backend.ensure_log_stream(self._log_group, self._stream_name)
                if events:
                    self._log_backend.put_log_events(self._log_group, self._stream_name, events)
                self.log_stream_name = self._stream_name
            real_mark_stopped(success)

        self._mark_stopped = mark_stopped
        moto_sfn._run_job_locally(self)

    models.Job.run = run
    return previous
