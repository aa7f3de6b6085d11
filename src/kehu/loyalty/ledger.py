"""The mechanics of the points ledger, under the services: accounts, credits,
debits taken oldest first (FIFO), and expiry.

Invariants every function here keeps, in the caller's transaction:
- an account's ``balance`` is the sum of its customer's entries;
- the ``remaining`` of a customer's credits adds up to the balance when it is
  positive, and to 0 when it is not (a negative balance is a debt that the next
  credits pay first);
- one customer's ledger is written by one transaction at a time: every writer
  first locks (or upserts, which locks) the account row.
"""

import calendar
import datetime
from collections import defaultdict

from django.conf import settings
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from kehu.core.bulk import insert_rows, upsert_rows
from kehu.core.changelog import Actor

from .models import QUALIFYING, EntryKind, LoyaltyAccount, LoyaltyEntry

ENTRY_COLUMNS = [
    "customer_id",
    "kind",
    "points",
    "remaining",
    "reason",
    "channel",
    "created_by_id",
    "occurred_at",
    "created_at",
    "order_id",
    "order_ref",
    "expires_at",
    "source_id",
]
# Credits whose points can be spent later and so carry ``remaining``.
CREDITS = [EntryKind.EARN, EntryKind.GRANT, EntryKind.ADJUST]


def expiry_for(moment: datetime.datetime, months: int | None = None) -> datetime.datetime | None:
    """When points credited at ``moment`` expire: the same local time
    KEHU_LOYALTY_EXPIRY_MONTHS calendar months later (the month's last day when
    it is shorter); None when points never expire (0)."""
    months = settings.KEHU_LOYALTY_EXPIRY_MONTHS if months is None else months
    if not months:
        return None
    local = timezone.localtime(moment, timezone.get_default_timezone())
    years, month = divmod(local.month - 1 + months, 12)
    year, month = local.year + years, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def user_id(actor: Actor) -> int | None:
    return getattr(actor.user, "pk", None)


def add_to_accounts(deltas: dict[int, tuple[int, int]], now) -> dict[int, int]:
    """Add (balance, lifetime points) to the customers' accounts, creating the
    missing ones, in one statement; returns each account's new balance. Rows go
    in customer order, so that concurrent writers lock them in the same order."""
    rows = [(pk, balance, lifetime, now) for pk, (balance, lifetime) in sorted(deltas.items())]
    returned = upsert_rows(
        LoyaltyAccount,
        ["customer_id", "balance", "lifetime_points", "updated_at"],
        rows,
        conflict="customer_id",
        assignments=(
            "balance = s.balance + excluded.balance,"
            " lifetime_points = s.lifetime_points + excluded.lifetime_points,"
            " updated_at = excluded.updated_at"
        ),
        returning=["customer_id", "balance"],
    )
    return dict(returned)


def locked_account(customer_id: int, now) -> LoyaltyAccount:
    """The customer's account, created if need be, locked for this transaction,
    with its credits past expiry already expired."""
    add_to_accounts({customer_id: (0, 0)}, now)
    LoyaltyAccount.objects.select_for_update().get(pk=customer_id)
    expire_due(customer_ids=[customer_id], as_of=now, now=now)
    return LoyaltyAccount.objects.get(pk=customer_id)


def credit(
    account: LoyaltyAccount,
    actor: Actor,
    kind: str,
    points: int,
    now,
    reason: str = "",
    expires_at=None,
) -> LoyaltyEntry:
    """Add ``points`` (> 0) to a locked account; a debt is paid first."""
    debt = max(0, -account.balance)
    entry = LoyaltyEntry.objects.create(
        customer_id=account.pk,
        kind=kind,
        points=points,
        remaining=points - min(debt, points),
        reason=reason,
        channel=actor.channel,
        created_by_id=user_id(actor),
        occurred_at=now,
        created_at=now,
        expires_at=expires_at,
    )
    _change_account(account, points, kind, now)
    return entry


def debit(
    account: LoyaltyAccount,
    actor: Actor,
    kind: str,
    points: int,
    now,
    reason: str = "",
    order_id: int | None = None,
    order_ref: str = "",
) -> LoyaltyEntry:
    """Take ``points`` (> 0) from a locked account: from the credits of
    ``order_id`` first (a refund's own earning), then from the credits that
    expire first. What the credits cannot cover leaves the balance negative."""
    take_fifo(account.pk, points, now, first_order_id=order_id)
    entry = LoyaltyEntry.objects.create(
        customer_id=account.pk,
        kind=kind,
        points=-points,
        reason=reason,
        channel=actor.channel,
        created_by_id=user_id(actor),
        occurred_at=now,
        created_at=now,
        order_id=order_id,
        order_ref=order_ref,
    )
    _change_account(account, -points, kind, now)
    return entry


def _change_account(account: LoyaltyAccount, points: int, kind: str, now) -> None:
    account.balance += points
    if kind in QUALIFYING:
        account.lifetime_points += points
    account.updated_at = now
    account.save(update_fields=["balance", "lifetime_points", "updated_at"])


def take_fifo(customer_id: int, points: int, as_of, first_order_id=None) -> int:
    """Use up to ``points`` of a customer's unexpired credits, those expiring
    first first (credits that never expire last); returns how many were used."""
    credits = LoyaltyEntry.objects.filter(customer_id=customer_id, remaining__gt=0).exclude(
        expires_at__lte=as_of
    )
    order = [F("expires_at").asc(nulls_last=True), "occurred_at", "id"]
    if first_order_id is not None:
        own = Case(
            When(order_id=first_order_id, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        credits = credits.annotate(own=own)
        order.insert(0, "own")
    left = points
    used: list[LoyaltyEntry] = []
    for entry in credits.order_by(*order).only("id", "remaining").iterator(chunk_size=200):
        take = min(entry.remaining, left)
        entry.remaining -= take
        left -= take
        used.append(entry)
        if not left:
            break
    LoyaltyEntry.objects.bulk_update(used, ["remaining"], batch_size=500)
    return points - left


def expire_due(*, as_of, now, customer_ids=None, limit: int = 5000) -> int:
    """Write an expiry entry for what is left of each credit whose time came by
    ``as_of`` (up to ``limit`` credits; of ``customer_ids`` when given, whose
    accounts the caller holds locked); returns how many credits expired."""
    due = LoyaltyEntry.objects.filter(remaining__gt=0, expires_at__lte=as_of)
    if customer_ids is not None:
        due = due.filter(customer_id__in=customer_ids)
    else:
        customers = sorted(
            set(due.order_by("expires_at", "id").values_list("customer_id", flat=True)[:limit])
        )
        if not customers:
            return 0
        # Lock the accounts before reading what is left: a redemption may be
        # taking from the same credits right now.
        list(
            LoyaltyAccount.objects.select_for_update()
            .filter(customer_id__in=customers)
            .order_by("customer_id")
            .values_list("pk", flat=True)
        )
        due = due.filter(customer_id__in=customers)
    columns = ("id", "customer_id", "remaining", "expires_at")
    credits = list(due.order_by("expires_at", "id").values_list(*columns)[:limit])
    if not credits:
        return 0
    insert_rows(
        LoyaltyEntry,
        ENTRY_COLUMNS,
        [
            (
                customer_id,
                EntryKind.EXPIRE.value,
                -remaining,
                None,
                "",
                "system",
                None,
                expires_at,
                now,
                None,
                "",
                None,
                pk,
            )
            for pk, customer_id, remaining, expires_at in credits
        ],
    )
    LoyaltyEntry.objects.filter(pk__in=[c[0] for c in credits]).update(remaining=0)
    lost: dict[int, int] = defaultdict(int)
    for _, customer_id, remaining, _ in credits:
        lost[customer_id] += remaining
    add_to_accounts({pk: (-points, 0) for pk, points in lost.items()}, now)
    return len(credits)
