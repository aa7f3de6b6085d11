"""Reads of the engagement app; everything follows its customers' visibility."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kehu.accounts import roles
from kehu.accounts.models import Role
from kehu.customers import queries as customer_queries

from .models import BehaviourEvent, EngagementSummary, FollowUpTask, Interaction, TaskStatus

WINDOWS = (7, 30, 90)


def events_visible_to(user) -> QuerySet:
    return BehaviourEvent.objects.filter(customer__in=customer_queries.customers_visible_to(user))


def behaviour_summary(customer, now=None) -> dict:
    """Last seen, counts by type over 7, 30 and 90 days, and the categories most
    viewed in 90 days (``properties.category`` of page views), for one customer."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=max(WINDOWS))
    recent = BehaviourEvent.objects.filter(customer=customer, occurred_at__gte=since)
    windows = {
        f"d{days}": Count("pk", filter=Q(occurred_at__gte=now - datetime.timedelta(days=days)))
        for days in WINDOWS
    }
    counts = {
        row["type"]: {days: row[f"d{days}"] for days in WINDOWS}
        for row in recent.order_by().values("type").annotate(**windows)
    }
    categories = (
        recent.filter(type="page_view", properties__has_key="category")
        .order_by()
        .values("properties__category")
        .annotate(n=Count("pk"))
        .order_by("-n")[:5]
    )
    summary = EngagementSummary.objects.filter(customer=customer).first()
    return {
        "last_seen_at": summary.last_seen_at if summary else None,
        "event_count": summary.event_count if summary else 0,
        "counts": counts,
        "top_categories": [(c["properties__category"], c["n"]) for c in categories],
    }


def interactions_visible_to(user) -> QuerySet:
    return Interaction.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("user", "contact")


def tasks_visible_to(user) -> QuerySet:
    """Tasks of the customers a user sees, and the tasks given to the user."""
    visible = customer_queries.customers_visible_to(user)
    return FollowUpTask.objects.filter(Q(customer__in=visible) | Q(assignee=user)).select_related(
        "customer", "assignee"
    )


def inbox(user, now=None) -> dict:
    """A user's open tasks: overdue, due today (in the user's time zone), upcoming."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    end_of_today = local.replace(hour=0, minute=0, second=0, microsecond=0) + datetime.timedelta(
        days=1
    )
    open_tasks = FollowUpTask.objects.filter(assignee=user, status=TaskStatus.OPEN).select_related(
        "customer"
    )
    return {
        # Not overdue yet, but their reminder time has come.
        "reminders": list(
            open_tasks.filter(remind_at__lte=now, due_at__gte=now).order_by("due_at", "id")[:50]
        ),
        "overdue": list(open_tasks.filter(due_at__lt=now).order_by("due_at", "id")[:200]),
        "today": list(
            open_tasks.filter(due_at__gte=now, due_at__lt=end_of_today).order_by("due_at", "id")
        ),
        "upcoming": list(open_tasks.filter(due_at__gte=end_of_today).order_by("due_at", "id")[:50]),
    }


def team_overdue(user, now=None) -> QuerySet:
    """Overdue open tasks a manager watches: their team's (an admin's: everyone's)."""
    now = now or timezone.now()
    overdue = FollowUpTask.objects.filter(status=TaskStatus.OPEN, due_at__lt=now).select_related(
        "customer", "assignee"
    )
    role = roles.effective_role(user)
    if role == Role.ADMIN:
        return overdue.order_by("due_at", "id")
    if role == Role.MANAGER and user.team_id is not None:
        return overdue.filter(assignee__team_id=user.team_id).order_by("due_at", "id")
    return overdue.none()


def needs_attention_count(user, now=None, cap: int = 99) -> int:
    """How many of the user's open tasks are overdue or past their reminder time
    (at most ``cap`` + 1 counted): the number beside Follow-ups in the menu."""
    now = now or timezone.now()
    return (
        FollowUpTask.objects.filter(assignee=user, status=TaskStatus.OPEN)
        .filter(Q(due_at__lt=now) | Q(remind_at__lte=now))
        .order_by()[: cap + 1]
        .count()
    )
