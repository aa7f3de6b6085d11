"""Scheduled work of the segments app (see core/schedule.py)."""

from django.tasks import task

from kehu.core.changelog import Actor

from . import runs
from .models import RunTrigger


@task
def nightly_run() -> dict:
    """Classify the whole base as of today, with predictions."""
    run = runs.segment_run(actor=Actor.system(), trigger=RunTrigger.SCHEDULE)
    return {"run": run.pk, "customers": run.customers, "status": run.status}
