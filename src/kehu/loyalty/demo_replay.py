"""Replaying demo customers' points (``demo``): the rules of ``ledger`` and
``services`` applied to one customer's orders, refunds and redemption in time
order, in whole seconds and cents, producing the rows of ``LoyaltyEntry`` and
``LoyaltyAccount`` as the demo writes them in bulk.

It touches no database, so that large loads run it in a forked process while the
loading process reads and writes (tests/loyalty/test_demo.py replays the same
histories through the services and compares).
"""

import datetime
import decimal
import heapq
import marshal
import random
from dataclasses import dataclass

from kehu.customers import demo_history as history

from . import ledger
from .models import EntryKind

STREAM = 20_000  # customers per random stream
REDEEM_SHARE = 0.2
REDEEM_FROM = 500  # points a customer needs to redeem
REDEEM_POINTS = list(range(200, 1001, 100))
REDEEM_AFTER = 3 * history.DAY  # at most this long after the purchase they redeem at
REDEEM_REASONS = ["积分兑换礼品", "积分抵扣现金", "兑换茶具礼盒", "Points for a gift card"]
_NEVER = float("inf")
_EARN, _REVERSE, _REDEEM = 0, 1, 2  # events at the same moment go in this order
_EARN_KIND, _EXPIRE_KIND = EntryKind.EARN.value, EntryKind.EXPIRE.value
_REVERSE_KIND, _REDEEM_KIND = EntryKind.REVERSE.value, EntryKind.REDEEM.value
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class Context:
    unit: int  # cents of the base currency per unit of the rule; 0: no active rule
    points_per_unit: int
    minimum: int  # cents
    months: int  # KEHU_LOYALTY_EXPIRY_MONTHS; 0: points never expire
    admin_id: int


class _Stamps(dict):
    """Seconds since 1970 -> "YYYY-MM-DD HH:MM:SS" + suffix, as the database reads
    it in bulk; expiry times reach years past the epoch, so days are made on demand."""

    def __init__(self, suffix: str):
        super().__init__()
        self.clock = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(86400)
        ]

    def __missing__(self, day: int) -> str:
        text = format(datetime.date(1970, 1, 1) + datetime.timedelta(days=day), "%Y-%m-%d ")
        self[day] = text
        return text

    def __call__(self, t: int) -> str:
        return self[t // 86400] + self.clock[t % 86400]


class Replay:
    """Replays customers' histories into entry and account rows, a block at a time.

    Rows are lists in column order, with the database's bulk NULL (``\\N`` in
    PostgreSQL's COPY text, None for SQLite), so that they encode without a test
    per value. Everything is in whole seconds and cents; the hot path (earnings)
    works on local variables."""

    def __init__(self, seed: int, context: Context, postgres: bool, first_id: int):
        self.seed = seed
        self.context = context
        self.postgres = postgres
        self.null = "\\N" if postgres else None
        self.stamp = _Stamps("+00" if postgres else "")
        self.rates: dict[str, decimal.Decimal | None] = {}
        self.expiry_shift: dict[int, int] = {}
        self.stream: tuple[int, random.Random | None] = (-1, None)
        self.next_id = first_id
        self.entries: list = []
        self.accounts: list[list] = []
        self.owners: dict[int, int] = {}

    def block(self, customers: list[tuple], owners: dict[int, int]) -> tuple:
        """(entries payload, accounts payload, (entries, accounts)) of a block of
        customers: [(customer id, orders, refunds)] (see ``customer``), and
        their owners {customer id: owner id}."""
        self.owners = owners
        for customer_id, orders, refunds in customers:
            self.customer(customer_id, orders, refunds)
        entries, accounts = self.entries, self.accounts
        self.entries, self.accounts = [], []
        counts = (len(entries), len(accounts))
        if not self.postgres:
            return marshal.dumps(entries), marshal.dumps(accounts), counts
        return (
            "".join(
                [
                    row if row.__class__ is str else "\t".join(map(str, row)) + "\n"
                    for row in entries
                ]
            ),
            "".join(["\t".join(map(str, row)) + "\n" for row in accounts]),
            counts,
        )

    # -- the rules

    def shift(self, t: int) -> int:
        """``ledger.expiry_for`` of moment ``t``, minus ``t``. The shift is the same
        for a whole quarter of an hour (UTC offsets and their changes fall on
        quarter hours), so it is computed once per quarter hour."""
        quarter = t // 900
        shift = self.expiry_shift.get(quarter)
        if shift is None:
            moment = datetime.datetime.fromtimestamp(t, datetime.UTC)
            shift = int(ledger.expiry_for(moment, self.context.months).timestamp()) - t
            self.expiry_shift[quarter] = shift
        return shift

    def base_cents(self, cents: int, rate_text: str) -> int:
        """Cents in the base currency, rounded as the sales services round them."""
        rate = self.rates.get(rate_text, 0)
        if rate == 0:
            value = decimal.Decimal(rate_text)
            rate = self.rates[rate_text] = None if value == 1 else value
        if rate is None:
            return cents
        return int((cents * rate).to_integral_value(decimal.ROUND_HALF_UP))

    def rng(self, customer_id: int) -> random.Random:
        """The random stream of the customer's block of STREAM ids."""
        block = customer_id // STREAM
        if self.stream[0] != block:
            self.stream = (block, random.Random(f"{self.seed}:{block}:loyalty"))
        return self.stream[1]

    # -- one customer

    def customer(self, customer_id: int, orders: list, refunds: dict) -> None:
        """Replay one customer: ``orders`` [(customer id, order id, external id,
        ordered at, amount in cents, base rate as text)] in time order, ``refunds``
        {order id: [(refunded at, cents)]} in the order they were recorded."""
        context, base_cents, postgres = self.context, self.base_cents, self.postgres
        unit, per_unit, minimum = context.unit, context.points_per_unit, context.minimum
        events, earned, bought = [], {}, []
        for _customer, order_id, external_id, at, cents, rate in orders:
            total = base_cents(cents, rate)
            # ``EarnRule.points_for``
            points = total // unit * per_unit if total >= minimum and total > 0 else 0
            if points <= 0:
                continue
            ref = external_id[:100]
            if postgres and ("\\" in ref or not ref.isprintable()):
                ref = ref.translate(_COPY_ESCAPES)
            earned[order_id] = (points, total, ref)
            events.append((at, _EARN, order_id, points))
            bought.append(at)
            refunded = 0
            for refunded_at, amount in refunds.get(order_id, ()):
                refunded += amount  # the order's refunded total after this refund
                events.append((refunded_at, _REVERSE, order_id, base_cents(refunded, rate)))
        if not events:
            return
        rand = self.rng(customer_id).random
        if rand() < REDEEM_SHARE:
            after = bought[int(rand() * len(bought))] + 3600 + int(rand() * REDEEM_AFTER)
            points = REDEEM_POINTS[int(rand() * len(REDEEM_POINTS))]
            reason = REDEEM_REASONS[int(rand() * len(REDEEM_REASONS))]
            at = min(after, history.EPOCH_TS - 3600)
            # Most have too few points then; with earnings only, that is a plain sum.
            if len(bought) < len(events) or self.balance_at(at, events) >= REDEEM_FROM:
                events.append((at, _REDEEM, reason, points))
        if len(bought) == len(events):
            self.earnings_only(customer_id, events, earned)
        else:
            events.sort()
            self.ledger(customer_id, events, earned)

    def balance_at(self, moment: int, earnings: list[tuple]) -> int:
        """The balance at ``moment`` of a customer who only earned: what they earned
        by then, less what expired by then."""
        balance = 0
        for at, _kind, _order_id, points in earnings:
            if at > moment:
                break
            balance += points
            if self.context.months and at + self.shift(at) <= moment:
                balance -= points
        return balance

    def earnings_only(self, customer_id: int, events: list[tuple], earned: dict) -> None:
        """``ledger`` for a customer who only earned (most of them): nothing is ever
        taken from a credit before it expires, so there is no debt and no FIFO, and
        the rows are final as they are made (on PostgreSQL, COPY lines at once)."""
        days, clock, null, entries = self.stamp, self.stamp.clock, self.null, self.entries
        shifts, months, postgres = self.expiry_shift, self.context.months, self.postgres
        epoch = history.EPOCH_TS
        due: list[tuple[int, int, int]] = []  # (expiry, entry id, points) by the epoch
        balance = lifetime = last = 0
        entry_id = self.next_id
        for at, _kind, order_id, points in events:
            while due and due[0][0] <= at:
                expiry, source, left = heapq.heappop(due)
                entries.append(self._expiry_row(entry_id, customer_id, expiry, left, source))
                entry_id += 1
                balance -= left
                last = expiry
            when = days[at // 86400] + clock[at % 86400]
            expires, remaining = null, points
            if months:
                shift = shifts.get(at // 900)
                expiry = at + (self.shift(at) if shift is None else shift)
                expires = days[expiry // 86400] + clock[expiry % 86400]
                if expiry <= epoch:
                    remaining = 0
                    heapq.heappush(due, (expiry, entry_id, points))
            ref = earned[order_id][2]
            if postgres:
                entries.append(
                    f"{entry_id}\t{customer_id}\t{_EARN_KIND}\t{points}\t{remaining}\t\tapi\t\\N"
                    f"\t{when}\t{when}\t{order_id}\t{ref}\t{expires}\t\\N\n"
                )
            else:
                entries.append(
                    (entry_id, customer_id, _EARN_KIND, points, remaining, "", "api", None)
                    + (when, when, order_id, ref, expires, None)
                )
            entry_id += 1
            balance += points
            lifetime += points
            last = at
        while due:
            expiry, source, left = heapq.heappop(due)
            entries.append(self._expiry_row(entry_id, customer_id, expiry, left, source))
            entry_id += 1
            balance -= left
            last = expiry
        self.next_id = entry_id
        self.accounts.append([customer_id, balance, lifetime, self.stamp(last)])

    def _expiry_row(self, entry_id: int, customer_id: int, expiry: int, left: int, source: int):
        when = self.stamp(expiry)
        if self.postgres:
            return (
                f"{entry_id}\t{customer_id}\t{_EXPIRE_KIND}\t{-left}\t\\N\t\tsystem\t\\N"
                f"\t{when}\t{when}\t\\N\t\t\\N\t{source}\n"
            )
        return (entry_id, customer_id, _EXPIRE_KIND, -left, None, "", "system", None) + (
            when,
            when,
            None,
            "",
            None,
            source,
        )

    def ledger(self, customer_id: int, events: list[tuple], earned: dict) -> None:
        """Replay one customer's events in time order. A credit is a list [expiry
        (inf: never), time, entry id, remaining, order id, its row]; its row gets
        the final ``remaining`` at the end."""
        days, clock, null, entries = self.stamp, self.stamp.clock, self.null, self.entries
        shifts, months = self.expiry_shift, self.context.months
        state = _State()
        credits = state.credits
        reversed_of: dict[int, int] = {}
        for at, kind, key, value in events:
            if at >= state.next_expiry:
                self.expire(customer_id, state, at)
            if kind == _EARN:
                # ``earn_for_orders``: a debt is paid first; the points expire.
                points, _total, ref = earned[key]
                balance = state.balance
                remaining = points if balance >= 0 else max(points + balance, 0)
                when = days[at // 86400] + clock[at % 86400]
                expiry = _NEVER
                expires = null
                if months:
                    shift = shifts.get(at // 900)
                    expiry = at + (self.shift(at) if shift is None else shift)
                    expires = days[expiry // 86400] + clock[expiry % 86400]
                entry_id = self.next_id
                self.next_id = entry_id + 1
                row = [entry_id, customer_id, _EARN_KIND, points, remaining, "", "api", null]
                row += [when, when, key, ref, expires, null]
                entries.append(row)
                credit = [expiry, at, entry_id, remaining, key, row]
                credits.append(credit)
                if remaining and months:
                    heapq.heappush(state.expiring, (expiry, entry_id, credit))
                    if expiry < state.next_expiry:
                        state.next_expiry = expiry
                state.balance = balance + points
                state.lifetime += points
                state.last = at
            elif kind == _REVERSE:
                points, total, ref = earned[key]
                # ``reverse_for_refund``: the customer keeps floor(earned × kept / total).
                kept = min(max(total - value, 0), total)
                owed = points - points * kept // total - reversed_of.get(key, 0)
                if owed > 0:
                    reversed_of[key] = reversed_of.get(key, 0) + owed
                    self.debit(customer_id, state, at, _REVERSE_KIND, owed, "api", "", key, ref)
                    state.lifetime -= owed
            elif state.balance >= REDEEM_FROM:
                # ``entry_create``: never more than the balance.
                points = min(value, state.balance // 100 * 100)
                row = self.debit(customer_id, state, at, _REDEEM_KIND, points, "ui", key)
                row[7] = self.owners.get(customer_id) or self.context.admin_id
        self.expire(customer_id, state, history.EPOCH_TS)
        for credit in credits:
            credit[5][4] = credit[3]
        self.accounts.append([customer_id, state.balance, state.lifetime, self.stamp(state.last)])

    def debit(self, customer_id, state, at, kind, points, channel, reason, order_id=None, ref=""):
        """``ledger.debit``: from the order's own earning first, then the credits that
        expire first; what they cannot cover leaves the balance negative. Returns
        the entry's row."""
        open_credits = [c for c in state.credits if c[3] > 0]
        if order_id is None:
            order_id = self.null
            open_credits.sort(key=lambda c: (c[0], c[1], c[2]))
        else:
            open_credits.sort(key=lambda c: (c[4] != order_id, c[0], c[1], c[2]))
        left = points
        for credit in open_credits:
            take = min(credit[3], left)
            credit[3] -= take
            left -= take
            if not left:
                break
        when, null = self.stamp(at), self.null
        row = [self.next_id, customer_id, kind, -points, null, reason, channel, null]
        row += [when, when, order_id, ref, null, null]
        self.next_id += 1
        self.entries.append(row)
        state.balance -= points
        state.last = at
        state.settle()
        return row

    def expire(self, customer_id: int, state: "_State", until: int) -> None:
        """``ledger.expire_due`` as of ``until``: an entry per credit due, dated at its
        expiry, for what is left of it."""
        expiring, null = state.expiring, self.null
        while expiring and expiring[0][0] <= until:
            credit = heapq.heappop(expiring)[2]
            left, credit[3] = credit[3], 0
            if not left:
                continue
            when = self.stamp(credit[0])
            row = [self.next_id, customer_id, _EXPIRE_KIND, -left, null, "", "system", null]
            row += [when, when, null, "", null, credit[2]]
            self.next_id += 1
            self.entries.append(row)
            state.balance -= left
            state.last = credit[0]
        state.settle()


class _State:
    """One customer's ledger while it is replayed."""

    __slots__ = ("credits", "expiring", "next_expiry", "balance", "lifetime", "last")

    def __init__(self):
        self.credits: list[list] = []
        # (expiry, entry id, credit) of credits that expire, in the order they do
        # (those used up meanwhile are dropped when they come up).
        self.expiring: list[tuple] = []
        self.next_expiry = _NEVER  # the first expiry of a credit with points left
        self.balance = 0
        self.lifetime = 0
        self.last = 0  # time of the latest entry

    def settle(self) -> None:
        """Drop used-up credits from the front of ``expiring``; set ``next_expiry``."""
        expiring = self.expiring
        while expiring and not expiring[0][2][3]:
            heapq.heappop(expiring)
        self.next_expiry = expiring[0][0] if expiring else _NEVER
