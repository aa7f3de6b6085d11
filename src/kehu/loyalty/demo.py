"""Demo points: the ledger the demo customers' orders would have given them.

Demo orders are written in bulk, without the sales signals that earn points, so
this part works after the load (``demo_history.Part.finish``): it reads the orders
and refunds of the customers just loaded, replays each customer's history in time
order through the rules of ``ledger`` and ``services``, and writes the entries and
the accounts in bulk (without change-log entries, like all demo data):

- an earning per paid order (also those refunded later) by the active earning
  rule, on the order's amount in the base currency, as ``earn_for_orders``
  computes it, expiring by ``ledger.expiry_for``; a customer in debt pays it first;
- a reversal per refund, as ``reverse_for_refund`` computes it (the customer keeps
  floor(earned × kept / total)), taken from the order's own earning first, then
  from the credits that expire first;
- for about a fifth of the customers, a redemption of 200–1,000 points a little
  after one of their purchases, when they have 500 points or more then;
- an expiry entry (dated at the credit's expiry, naming it as ``source``) for what
  is left of every credit whose time came by the demo's epoch;
- an account per customer with entries: the balance is the sum of the entries,
  the lifetime points the sum of the qualifying ones, and the credits' ``remaining``
  keeps the ledger's invariants.

Loyalty does not import sales (same floor): orders and refunds are read by their
models' table names, through ``apps.get_model``. Customers are read in id ranges,
so memory stays bounded whatever the size of the load.
"""

import datetime
import decimal
import random
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection
from django.utils.translation import gettext_noop

from kehu.core.bulk import insert_rows
from kehu.customers import demo_history as history
from kehu.customers.models import Customer

from . import ledger
from .models import EarnRule, EntryKind, LoyaltyAccount, LoyaltyEntry

RANGE = 20_000  # customers per read
REDEEM_SHARE = 0.2
REDEEM_FROM = 500  # points a customer needs to redeem
REDEEM_POINTS = list(range(200, 1001, 100))
REDEEM_AFTER = 3 * history.DAY  # at most this long after the purchase they redeem at
REDEEM_REASONS = ["积分兑换礼品", "积分抵扣现金", "兑换茶具礼盒", "Points for a gift card"]
PAID = ("paid", "partially_refunded", "refunded")  # orders paid (before any refund)
ENTRY_TABLE = "points_entries"
ACCOUNT_TABLE = "points_accounts"
ACCOUNT_COLUMNS = ("customer_id", "balance", "lifetime_points", "updated_at")
_NEVER = float("inf")
_EARN, _REVERSE, _REDEEM = 0, 1, 2  # events at the same moment go in this order


@dataclass(frozen=True)
class Context:
    unit: int  # cents of the base currency per unit of the rule; 0: no active rule
    points_per_unit: int
    minimum: int  # cents
    months: int  # KEHU_LOYALTY_EXPIRY_MONTHS; 0: points never expire
    admin_id: int


def prepare(seed: int, admin_id: int) -> Context:
    """The active earning rule; the shipped one (as the migration adds it) when there
    is no rule at all. When an admin switched every rule off, nobody earns."""
    if not EarnRule.objects.exists():
        EarnRule.objects.create(
            name=gettext_noop("1 point per 10 spent"),
            unit_amount=decimal.Decimal("10.00"),
            points_per_unit=1,
            minimum_amount=decimal.Decimal(0),
            active=True,
        )
    rule = EarnRule.objects.filter(active=True).first()
    if rule is None:
        return Context(0, 0, 0, 0, admin_id)
    return Context(
        unit=int(rule.unit_amount * 100),
        points_per_unit=rule.points_per_unit,
        minimum=int(rule.minimum_amount * 100),
        months=settings.KEHU_LOYALTY_EXPIRY_MONTHS,
        admin_id=admin_id,
    )


def rows(stories: history.Stories, context: Context, rng) -> dict[str, list[tuple]]:
    return {}  # everything is derived from the orders, after the load (``finish``)


def finish(seed: int, context: Context, ids: range) -> dict[str, int]:
    """Write the points of the customers ``ids``; returns the rows written per table."""
    written = {ENTRY_TABLE: 0, ACCOUNT_TABLE: 0}
    if not context.unit or not ids:
        return written
    next_id = (LoyaltyEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    stamp = _Stamps("+00" if connection.vendor == "postgresql" else "")
    replay = _Replay(context, stamp)
    with connection.cursor() as cursor:
        for start in range(ids.start, ids.stop, RANGE):
            stop = min(start + RANGE, ids.stop)
            orders = _orders(cursor, start, stop)
            refunds = _refunds(cursor, start, stop)
            owners = dict(
                Customer.all_objects.filter(pk__gte=start, pk__lt=stop).values_list(
                    "pk", "owner_id"
                )
            )
            rng = random.Random(f"{seed}:{start}:loyalty")
            entries, accounts = replay.run(orders, refunds, owners, rng, next_id)
            next_id += len(entries)
            _write(cursor, LoyaltyEntry, ["id", *ledger.ENTRY_COLUMNS], entries)
            _write(cursor, LoyaltyAccount, list(ACCOUNT_COLUMNS), accounts)
            written[ENTRY_TABLE] += len(entries)
            written[ACCOUNT_TABLE] += len(accounts)
        if connection.vendor == "postgresql":
            # Ids were given here: the sequence continues after them.
            for sql in connection.ops.sequence_reset_sql(no_style(), [LoyaltyEntry]):
                cursor.execute(sql)
    return written


# ---- reading orders and refunds ------------------------------------------------------


def _sql_parts() -> tuple[str, str]:
    """SQL turning a timestamp column into whole seconds since 1970, and a money
    column into cents, on this database."""
    if connection.vendor == "postgresql":
        return "EXTRACT(EPOCH FROM {})::bigint", "({} * 100)::bigint"
    return "CAST(strftime('%%s', {}) AS INTEGER)", "CAST(ROUND({} * 100) AS INTEGER)"


def _table(name: str) -> str:
    return connection.ops.quote_name(apps.get_model("sales", name)._meta.db_table)


def _orders(cursor, start: int, stop: int) -> list[tuple]:
    """(customer id, order id, external id, ordered at, amount in cents, base rate as
    text) of the paid orders of customers ``start`` … ``stop - 1``, by customer and time."""
    seconds, cents = _sql_parts()
    rate = "base_rate::text" if connection.vendor == "postgresql" else "CAST(base_rate AS TEXT)"
    cursor.execute(
        f"SELECT customer_id, id, external_id, {seconds.format('ordered_at')},"
        f" {cents.format('amount')}, {rate} FROM {_table('Order')}"
        " WHERE customer_id >= %s AND customer_id < %s AND deleted_at IS NULL"
        " AND status IN (%s, %s, %s) ORDER BY customer_id, ordered_at, id",
        [start, stop, *PAID],
    )
    return cursor.fetchall()


def _refunds(cursor, start: int, stop: int) -> dict[int, list[tuple[int, int]]]:
    """{order id: [(refunded at, cents)]} in the order they were recorded."""
    seconds, cents = _sql_parts()
    cursor.execute(
        f"SELECT r.order_id, {seconds.format('r.refunded_at')}, {cents.format('r.amount')}"
        f" FROM {_table('Refund')} r JOIN {_table('Order')} o ON o.id = r.order_id"
        " WHERE o.customer_id >= %s AND o.customer_id < %s AND o.deleted_at IS NULL"
        " AND r.deleted_at IS NULL ORDER BY r.order_id, r.refunded_at, r.id",
        [start, stop],
    )
    out: dict[int, list[tuple[int, int]]] = {}
    for order_id, at, amount in cursor.fetchall():
        out.setdefault(order_id, []).append((at, amount))
    return out


def _write(cursor, model, columns: list[str], rows: list[tuple]) -> None:
    """COPY on PostgreSQL (``insert_rows``); on SQLite ``executemany`` directly, as
    the times are already text the way Django writes them."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        insert_rows(model, columns, rows)
        return
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    cursor.executemany(
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names})"
        f" VALUES ({', '.join(['%s'] * len(columns))})",
        rows,
    )


# ---- replaying the ledger ---------------------------------------------------------------


class _Stamps(dict):
    """Seconds since 1970 -> "YYYY-MM-DD HH:MM:SS" + suffix, as the database reads
    it in bulk; expiry times reach years past the epoch, so days are made on demand."""

    def __init__(self, suffix: str):
        super().__init__()
        self.clock = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(86400)
        ]

    def __missing__(self, day: int) -> str:
        text = self[day] = format(
            datetime.date(1970, 1, 1) + datetime.timedelta(days=day), "%Y-%m-%d "
        )
        return text

    def __call__(self, t: int) -> str:
        return self[t // 86400] + self.clock[t % 86400]


class _Replay:
    """Replays customers' histories; keeps what is the same for all of them."""

    def __init__(self, context: Context, stamp: _Stamps):
        self.context = context
        self.stamp = stamp
        self.rates: dict[str, decimal.Decimal | None] = {}
        self.expiry_shift: dict[int, int] = {}

    def expires(self, t: int) -> int | None:
        """``ledger.expiry_for`` of moment ``t``, in seconds. It moves a moment by the
        same amount for a whole quarter of an hour (UTC offsets and their changes
        fall on quarter hours), so it is computed once per quarter hour."""
        if not self.context.months:
            return None
        quarter = t // 900
        shift = self.expiry_shift.get(quarter)
        if shift is None:
            moment = datetime.datetime.fromtimestamp(t, datetime.UTC)
            shift = int(ledger.expiry_for(moment, self.context.months).timestamp()) - t
            self.expiry_shift[quarter] = shift
        return t + shift

    def base_cents(self, cents: int, rate_text: str) -> int:
        """Cents in the base currency, rounded as the sales services round them."""
        rate = self.rates.get(rate_text, 0)
        if rate == 0:
            value = decimal.Decimal(rate_text)
            rate = self.rates[rate_text] = None if value == 1 else value
        if rate is None:
            return cents
        return int((cents * rate).to_integral_value(decimal.ROUND_HALF_UP))

    def points_for(self, cents: int) -> int:
        """``EarnRule.points_for`` in cents."""
        context = self.context
        if cents < context.minimum or cents <= 0:
            return 0
        return cents // context.unit * context.points_per_unit

    def run(self, orders, refunds, owners, rng, first_id: int) -> tuple[list, list]:
        """(entries with ids from ``first_id``, accounts) of the customers of ``orders``."""
        entries: list[tuple] = []
        accounts: list[tuple] = []
        start = 0
        for end in range(1, len(orders) + 1):
            if end < len(orders) and orders[end][0] == orders[start][0]:
                continue
            customer = _Customer(self, orders[start][0], first_id + len(entries), entries)
            customer.replay(orders[start:end], refunds, owners, rng)
            if customer.last is not None:
                accounts.append(
                    (customer.id, customer.balance, customer.lifetime, self.stamp(customer.last))
                )
            start = end
        return entries, accounts


class _Customer:
    """One customer's ledger, replayed in time order. A credit is a list
    [expiry (inf: never), time, entry id, remaining, order id, its row's index]."""

    def __init__(self, replay: _Replay, customer_id: int, next_id: int, entries: list):
        self.r = replay
        self.id = customer_id
        self.next_id = next_id
        self.entries = entries
        self.credits: list[list] = []
        self.next_expiry = _NEVER
        self.balance = 0
        self.lifetime = 0
        self.last: int | None = None  # time of the last entry

    def replay(self, orders, refunds, owners, rng) -> None:
        r = self.r
        events = []
        # order id -> (points, total in base cents, external id)
        earned: dict[int, tuple[int, int, str]] = {}
        bought = []
        for _cid, order_id, external_id, at, cents, rate in orders:
            total = r.base_cents(cents, rate)
            points = r.points_for(total)
            if points <= 0:
                continue
            earned[order_id] = (points, total, external_id[:100])
            events.append((at, _EARN, order_id, points, 0))
            bought.append(at)
            refunded = 0
            for refunded_at, amount in refunds.get(order_id, ()):
                refunded += amount  # the order's refunded total after this refund
                events.append((refunded_at, _REVERSE, order_id, r.base_cents(refunded, rate), 0))
        if not events:
            return
        rand = rng.random
        if rand() < REDEEM_SHARE:
            after = bought[int(rand() * len(bought))] + 3600 + int(rand() * REDEEM_AFTER)
            points = REDEEM_POINTS[int(rand() * len(REDEEM_POINTS))]
            reason = int(rand() * len(REDEEM_REASONS))
            events.append((min(after, history.EPOCH_TS - 3600), _REDEEM, 0, points, reason))
        events.sort()
        reversed_of: dict[int, int] = {}
        for at, kind, order_id, value, extra in events:
            if at >= self.next_expiry:
                self.expire(at)
            if kind == _EARN:
                points, _total, ref = earned[order_id]
                self.earn(at, order_id, ref, points)
            elif kind == _REVERSE:
                points, total, ref = earned[order_id]
                owed = self.owed(points, total, value, reversed_of.get(order_id, 0))
                if owed > 0:
                    reversed_of[order_id] = reversed_of.get(order_id, 0) + owed
                    self.debit(at, EntryKind.REVERSE.value, owed, "api", None, "", order_id, ref)
            elif self.balance >= REDEEM_FROM:
                points = min(value, self.balance // 100 * 100)
                by = owners.get(self.id) or r.context.admin_id
                self.debit(at, EntryKind.REDEEM.value, points, "ui", by, REDEEM_REASONS[extra])
        self.expire(history.EPOCH_TS)
        entries = self.entries
        for credit in self.credits:  # what is left of the credits, into their rows
            row = entries[credit[5]]
            if row[4] != credit[3]:
                entries[credit[5]] = (*row[:4], credit[3], *row[5:])

    @staticmethod
    def owed(earned: int, total: int, refunded: int, reversed_already: int) -> int:
        """What ``services.reverse_for_refund`` reverses for a refund that brings the
        order's refunded total (base cents) to ``refunded``."""
        if total <= 0:
            return 0
        kept = min(max(total - refunded, 0), total)
        return earned - earned * kept // total - reversed_already

    def _entry(
        self, at, kind, points, remaining, reason, channel, by, order_id, ref, expires, source
    ):
        stamp = self.r.stamp(at)
        entry_id = self.next_id
        self.next_id += 1
        self.entries.append(
            (
                entry_id,
                self.id,
                kind,
                points,
                remaining,
                reason,
                channel,
                by,
                stamp,
                stamp,
                order_id,
                ref,
                None if expires is None else self.r.stamp(expires),
                source,
            )
        )
        self.last = at
        return entry_id

    def earn(self, at: int, order_id: int, ref: str, points: int) -> None:
        debt = max(0, -self.balance)
        remaining = points - min(debt, points)
        expires = self.r.expires(at)
        entry_id = self._entry(
            at,
            EntryKind.EARN.value,
            points,
            remaining,
            "",
            "api",
            None,
            order_id,
            ref,
            expires,
            None,
        )
        key = _NEVER if expires is None else expires
        self.credits.append([key, at, entry_id, remaining, order_id, len(self.entries) - 1])
        if remaining and key < self.next_expiry:
            self.next_expiry = key
        self.balance += points
        self.lifetime += points

    def debit(self, at, kind, points, channel, by, reason="", order_id=None, ref="") -> None:
        """``ledger.debit``: from the order's own earning first, then the credits that
        expire first; what they cannot cover leaves the balance negative."""
        open_credits = [c for c in self.credits if c[3] > 0]
        open_credits.sort(key=lambda c: (c[4] != order_id if order_id else 0, c[0], c[1], c[2]))
        left = points
        for credit in open_credits:
            take = min(credit[3], left)
            credit[3] -= take
            left -= take
            if not left:
                break
        self._entry(at, kind, -points, None, reason, channel, by, order_id, ref, None, None)
        self.balance -= points
        if kind == EntryKind.REVERSE.value:
            self.lifetime -= points
        self._next_expiry()

    def expire(self, until: int) -> None:
        """``ledger.expire_due`` as of ``until``: an entry per credit due, at its expiry."""
        due = sorted(
            (c for c in self.credits if c[3] > 0 and c[0] <= until), key=lambda c: (c[0], c[2])
        )
        for credit in due:
            left = credit[3]
            credit[3] = 0
            self._entry(
                credit[0],
                EntryKind.EXPIRE.value,
                -left,
                None,
                "",
                "system",
                None,
                None,
                "",
                None,
                credit[2],
            )
            self.balance -= left
        if due:
            self._next_expiry()

    def _next_expiry(self) -> None:
        self.next_expiry = min((c[0] for c in self.credits if c[3] > 0), default=_NEVER)


PART = history.Part(
    key="loyalty",
    tables=(
        history.Table(ENTRY_TABLE, LoyaltyEntry, tuple(ledger.ENTRY_COLUMNS)),
        history.Table(ACCOUNT_TABLE, LoyaltyAccount, ACCOUNT_COLUMNS, numbered=False),
    ),
    prepare=prepare,
    rows=rows,
    finish=finish,
)
