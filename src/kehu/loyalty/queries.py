"""Reads of the loyalty app; accounts and entries follow their customers' visibility."""

import datetime
import decimal
from dataclasses import dataclass

from django.db.models import F, Min, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer

from .models import LoyaltyAccount, LoyaltyEntry, Tier, TierBasis

EXPIRING_WITHIN_DAYS = 30


def accounts_visible_to(user) -> QuerySet:
    # The spend basis of tiers reads the customer's purchase figures through the
    # reverse relation sales gives them, by name: loyalty does not import sales.
    return LoyaltyAccount.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("customer", "customer__purchase_summary")


def entries_visible_to(user) -> QuerySet:
    return LoyaltyEntry.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("created_by")


def tiers() -> list[Tier]:
    return list(Tier.objects.order_by("position", "id"))


def total_spent(customer: Customer) -> decimal.Decimal:
    """Net spend in the base currency, from sales' purchase figures (0 if none)."""
    summary = getattr(customer, "purchase_summary", None)
    return summary.total_spent if summary is not None else decimal.Decimal(0)


@dataclass(frozen=True)
class Standing:
    tier: Tier | None
    next_tier: Tier | None
    # What is missing to reach ``next_tier`` on its basis (points or money).
    to_next: decimal.Decimal | None


def standing(lifetime_points: int, spent: decimal.Decimal, all_tiers: list[Tier]) -> Standing:
    """The highest tier (by position) whose threshold the customer reaches on its
    basis, and the next one up with what is missing."""
    values = {TierBasis.POINTS: decimal.Decimal(lifetime_points), TierBasis.SPEND: spent}
    current = None
    for tier in all_tiers:
        if values[tier.basis] >= tier.threshold:
            current = tier
    above = [t for t in all_tiers if current is None or t.position > current.position]
    above = [t for t in above if values[t.basis] < t.threshold]
    following = above[0] if above else None
    missing = following.threshold - values[following.basis] if following else None
    return Standing(current, following, missing)


def account_standing(account: LoyaltyAccount | None, customer: Customer, all_tiers) -> Standing:
    points = account.lifetime_points if account is not None else 0
    return standing(points, total_spent(customer), all_tiers)


def expiring_soon(customer: Customer, now=None, days: int = EXPIRING_WITHIN_DAYS) -> dict:
    """Points of the customer that expire within ``days``, and the first date."""
    now = now or timezone.now()
    row = LoyaltyEntry.objects.filter(
        customer=customer,
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + datetime.timedelta(days=days),
    ).aggregate(points=Sum("remaining"), first=Min("expires_at"))
    return {"points": row["points"] or 0, "first": row["first"], "days": days}


def ledger_mismatches(limit: int = 100) -> list[tuple[int, int, int]]:
    """Accounts whose cached balance is not the sum of their entries:
    (customer id, cached, sum), read per account from its entries' index.
    Empty when the ledger is consistent."""
    total = (
        LoyaltyEntry.objects.filter(customer_id=OuterRef("customer_id"))
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return list(
        LoyaltyAccount.objects.annotate(total=Coalesce(Subquery(total), 0))
        .exclude(balance=F("total"))
        .order_by("customer_id")
        .values_list("customer_id", "balance", "total")[:limit]
    )
