"""Scheduled work of the loyalty app (see core/schedule.py)."""

from django.tasks import task

from . import services


@task
def expire_points() -> dict:
    """Expire what is left of credits past their expiry time."""
    return {"expired_credits": services.expire_points()}
