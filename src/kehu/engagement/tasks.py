"""Scheduled work of the engagement app (see core/schedule.py)."""

from django.tasks import task

from . import care_services, services


@task
def send_reminders() -> dict:
    """Follow-up reminders whose time has come."""
    return services.reminders_send()


@task
def create_care_tasks() -> dict:
    """Birthday and holiday follow-ups for customers' owners, days ahead."""
    return care_services.create_care_tasks().as_dict()
