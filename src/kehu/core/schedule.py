"""Jobs that run on a schedule: each app registers its own when it is ready (the
reminders every minute, care reminders and points expiry once a day), and
``kehu worker`` runs whichever are due. A job's work is a ``django.tasks`` task,
so a deployment that configures a queue backend (TASKS) runs it there; with the
default immediate backend the worker runs it itself.
"""

import datetime
import logging
from dataclasses import dataclass

from django.utils import timezone

from .models import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    # A django.tasks Task that takes no arguments and returns a JSON-ready summary.
    task: object
    # Run at most this often …
    every: datetime.timedelta | None = None
    # … or once a day, from this local time on.
    daily_at: datetime.time | None = None
    description: str = ""


_jobs: dict[str, Job] = {}


def register(job: Job) -> None:
    if (job.every is None) == (job.daily_at is None):
        raise ValueError("a job runs either every so often or daily")
    _jobs[job.name] = job


def jobs() -> list[Job]:
    return [_jobs[name] for name in sorted(_jobs)]


def is_due(job: Job, last_started: datetime.datetime | None, now: datetime.datetime) -> bool:
    if last_started is None:
        return True
    if job.every is not None:
        return now - last_started >= job.every
    local_now = timezone.localtime(now)
    today_at = local_now.replace(
        hour=job.daily_at.hour, minute=job.daily_at.minute, second=0, microsecond=0
    )
    return local_now >= today_at and timezone.localtime(last_started) < today_at


def due_jobs(now: datetime.datetime | None = None) -> list[Job]:
    now = now or timezone.now()
    started = dict(JobRun.objects.values_list("name", "started_at"))
    return [job for job in jobs() if is_due(job, started.get(job.name), now)]


def run(job: Job) -> dict:
    """Run ``job`` now (through its task's backend) and record the run; a failing
    job is logged and recorded, and does not stop the others."""
    run_row, _created = JobRun.objects.get_or_create(name=job.name)
    run_row.started_at = timezone.now()
    run_row.save(update_fields=["started_at"])
    try:
        outcome = job.task.enqueue()
        result = outcome.return_value if outcome.is_finished else {"queued": outcome.id}
        ok = True
    except Exception as error:  # a job's failure must not stop the worker
        log.exception("job %s failed", job.name)
        result, ok = {"error": str(error)}, False
    run_row.finished_at = timezone.now()
    run_row.ok = ok
    run_row.result = result if isinstance(result, dict) else {"result": result}
    run_row.save(update_fields=["finished_at", "ok", "result"])
    return run_row.result
