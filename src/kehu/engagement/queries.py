"""Reads of behaviour events; they follow their customers' visibility."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kehu.customers import queries as customer_queries

from .models import BehaviourEvent, EngagementSummary

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
