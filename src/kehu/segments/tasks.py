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


@task
def rebuild_recommendations() -> dict:
    """Recount which products are bought together."""
    from . import recommend

    return {"pairs": recommend.rebuild()}


@task
def rescore_new_orders() -> dict:
    """Re-score the customers whose orders arrived since the last run."""
    run = runs.incremental_run(actor=Actor.system())
    return {"run": run.pk, "customers": run.customers} if run else {"customers": 0}
