"""Reads of the segments app: scores follow their customers' visibility; runs
and their figures (the whole base in aggregate) are for the roles that analyse."""

from django.db.models import QuerySet

from kehu.accounts import roles
from kehu.accounts.models import Role
from kehu.customers import queries as customer_queries

from .models import CustomerScore, RunStatus, SegmentRun

ANALYSING_ROLES = (Role.ADMIN, Role.MANAGER, Role.ANALYST)


def can_see_runs(user) -> bool:
    return roles.effective_role(user) in ANALYSING_ROLES


def scores_visible_to(user) -> QuerySet:
    return CustomerScore.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("customer")


def previous_run(run: SegmentRun) -> SegmentRun | None:
    """The last finished run before ``run``."""
    return (
        SegmentRun.objects.filter(status=RunStatus.DONE, started_at__lt=run.started_at)
        .order_by("-started_at", "-id")
        .first()
    )
