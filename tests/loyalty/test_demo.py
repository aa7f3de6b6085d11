"""Demo points: the ledger the demo's orders would have earned, checked against a
computation of its own from the order rows and the rule, against the ledger's
invariants, and against a replay of the same history through the services."""

import decimal
import json
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from kehu.core.changelog import Actor
from kehu.core.models import Channel
from kehu.customers import demo
from kehu.customers.demo_history import EPOCH
from kehu.customers.models import Customer
from kehu.loyalty import demo as loyalty_demo
from kehu.loyalty import demo_replay, ledger, queries, services
from kehu.loyalty.models import QUALIFYING, EarnRule, LoyaltyAccount, LoyaltyEntry
from kehu.sales.models import Order, Refund

from ..customers.test_demo import clear_demo

pytestmark = pytest.mark.django_db(transaction=True)

CENT = decimal.Decimal("0.01")
PAID = ("paid", "partially_refunded", "refunded")
COLUMNS = ["customer_id", "kind", "points", "remaining", "order_id", "occurred_at", "expires_at"]


def base(amount, rate) -> decimal.Decimal:
    return (amount * rate).quantize(CENT, decimal.ROUND_HALF_UP)


def entries_by(kind: str) -> list[LoyaltyEntry]:
    return list(LoyaltyEntry.objects.filter(kind=kind).order_by("id"))


def test_earnings_follow_the_rule_and_reversals_the_refunds():
    totals = demo.load(300, seed=31)
    rule = EarnRule.objects.get(active=True)
    orders = {o.pk: o for o in Order.objects.filter(status__in=PAID)}
    expected = {}
    for order in orders.values():
        points = rule.points_for(base(order.amount, order.base_rate))
        if points > 0:
            expected[order.pk] = points
    earned = {e.order_id: e for e in entries_by("earn")}
    assert {pk: e.points for pk, e in earned.items()} == expected
    for pk, entry in earned.items():
        order = orders[pk]
        assert entry.customer_id == order.customer_id and entry.order_ref == order.external_id
        assert entry.occurred_at == order.ordered_at
        assert entry.expires_at == ledger.expiry_for(order.ordered_at)
    per_customer = defaultdict(int)
    for pk, points in expected.items():
        per_customer[orders[pk].customer_id] += points
    assert len(per_customer) > 100

    # Reversals: one per refund that takes points back, as reverse_for_refund computes it.
    wanted = defaultdict(list)
    refunded = defaultdict(decimal.Decimal)
    for refund in Refund.objects.order_by("order_id", "refunded_at", "id"):
        order = orders.get(refund.order_id)
        if order is None or order.pk not in expected:
            continue
        refunded[order.pk] += refund.amount
        total = base(order.amount, order.base_rate)
        kept = min(max(total - base(refunded[order.pk], order.base_rate), 0), total)
        keep = int(decimal.Decimal(expected[order.pk]) * kept // total)
        owed = expected[order.pk] - keep + sum(p for _, p in wanted[order.pk])
        if owed > 0:
            wanted[order.pk].append((refund.refunded_at, -owed))
    got = defaultdict(list)
    for entry in entries_by("reverse"):
        got[entry.order_id].append((entry.occurred_at, entry.points))
    assert got == wanted and len(got) >= 10
    assert totals["points_entries"] == LoyaltyEntry.objects.count()
    assert totals["points_accounts"] == LoyaltyAccount.objects.count() == len(per_customer)


def test_the_ledger_keeps_its_invariants_and_expires_exactly_what_is_due(capsys):
    demo.load(300, seed=32)
    call_command("loyalty", "check", "--json")
    assert json.loads(capsys.readouterr().out) == {"mismatches": []}
    assert queries.ledger_mismatches() == []
    entries = list(LoyaltyEntry.objects.order_by("id"))
    balance, lifetime, left = defaultdict(int), defaultdict(int), defaultdict(int)
    for entry in entries:
        balance[entry.customer_id] += entry.points
        if entry.kind in QUALIFYING:
            lifetime[entry.customer_id] += entry.points
        if entry.kind in ledger.CREDITS:
            left[entry.customer_id] += entry.remaining
            assert 0 <= entry.remaining <= entry.points
        else:
            assert entry.remaining is None and entry.points < 0
    accounts = {a.customer_id: a for a in LoyaltyAccount.objects.all()}
    assert set(accounts) == set(balance)
    for customer_id, account in accounts.items():
        assert account.balance == balance[customer_id]
        assert account.lifetime_points == lifetime[customer_id]
        assert left[customer_id] == max(account.balance, 0)
    credits = {e.pk: e for e in entries if e.kind == "earn"}
    expired = [e for e in entries if e.kind == "expire"]
    assert expired and len({e.source_id for e in expired}) == len(expired)
    for entry in expired:
        credit = credits[entry.source_id]
        assert credit.expires_at <= EPOCH and entry.occurred_at == credit.expires_at
        assert entry.customer_id == credit.customer_id
    due = [c for c in credits.values() if c.expires_at <= EPOCH]
    assert all(c.remaining == 0 for c in due)
    redeemed = entries_by("redeem")
    assert redeemed and all(-1000 <= e.points <= -200 for e in redeemed)
    assert all(e.occurred_at < EPOCH for e in entries)


def test_the_ledger_is_what_the_services_write_for_the_same_history(monkeypatch):
    """Replay a sample of customers' orders, refunds and redemptions, in time order,
    through the services (with the daily expiry run), and compare."""
    demo.load(300, seed=33)
    kinds = defaultdict(set)
    for customer_id, kind in LoyaltyEntry.objects.values_list("customer_id", "kind"):
        kinds[customer_id].add(kind)
    sample = [c for c, k in kinds.items() if {"redeem", "reverse"} & k][:12]
    sample += [c for c, k in kinds.items() if "expire" in k and c not in sample][:8]
    assert len(sample) >= 15
    rows = lambda cid: sorted(  # noqa: E731
        LoyaltyEntry.objects.filter(customer_id=cid).values_list(*COLUMNS), key=str
    )
    for customer_id in sample:
        demo_rows = rows(customer_id)
        account = LoyaltyAccount.objects.get(pk=customer_id)
        redemptions = list(LoyaltyEntry.objects.filter(customer_id=customer_id, kind="redeem"))
        LoyaltyEntry.objects.filter(customer_id=customer_id).delete()
        LoyaltyAccount.objects.filter(pk=customer_id).delete()
        _replay(monkeypatch, customer_id, redemptions)
        assert rows(customer_id) == demo_rows, customer_id
        replayed = LoyaltyAccount.objects.get(pk=customer_id)
        assert (replayed.balance, replayed.lifetime_points) == (
            account.balance,
            account.lifetime_points,
        )


def _replay(monkeypatch, customer_id: int, redemptions: list) -> None:
    api = Actor(user=None, channel=Channel.API)
    events = []
    for order in Order.objects.filter(customer_id=customer_id, status__in=PAID):
        amount = base(order.amount, order.base_rate)
        item = {
            "order_id": order.pk,
            "customer_id": customer_id,
            "external_id": order.external_id,
            "status": "paid",
            "ordered_at": order.ordered_at,
            "amount_base": amount,
        }
        events.append((order.ordered_at, 0, order.pk, "earn", item))
        refunded = decimal.Decimal(0)
        for refund in order.refunds.order_by("refunded_at", "id"):
            refunded += refund.amount
            item = {
                "customer_id": customer_id,
                "order_id": order.pk,
                "order_total_base": amount,
                "refunded_total_base": base(refunded, order.base_rate),
            }
            events.append((refund.refunded_at, 1, refund.pk, "refund", item))
    for entry in redemptions:
        events.append((entry.occurred_at, 2, entry.pk, "redeem", entry))
    customer = Customer.all_objects.get(pk=customer_id)
    for at, _rank, _pk, kind, item in sorted(events, key=lambda e: e[:3]):
        monkeypatch.setattr(timezone, "now", lambda at=at: at)
        with transaction.atomic():
            # The daily expiry run, up to this moment.
            ledger.expire_due(as_of=at, now=at, customer_ids=[customer_id])
            if kind == "earn":
                services.earn_for_orders(actor=api, orders=[item])
            elif kind == "refund":
                services.reverse_for_refund(actor=api, refund=item)
            else:
                services.entry_create(
                    actor=Actor(user=None, channel=Channel.UI),
                    customer=customer,
                    data={"kind": "redeem", "points": -item.points, "reason": item.reason},
                )
    with transaction.atomic():
        ledger.expire_due(as_of=EPOCH, now=EPOCH, customer_ids=[customer_id])


def ledger_rows():
    return (
        list(LoyaltyEntry.objects.order_by("id").values_list()),
        list(LoyaltyAccount.objects.order_by("pk").values_list()),
    )


def test_same_seed_same_points():
    demo.load(200, seed=34)
    first = ledger_rows()
    assert first[0] and first[1]
    clear_demo()
    demo.load(200, seed=34)
    assert ledger_rows() == first
    clear_demo()
    demo.load(200, seed=35)
    assert ledger_rows()[0] != first[0]


def test_a_replaying_process_writes_the_same_points(monkeypatch):
    """Small blocks, so that a forked process replays them while the loader writes
    (forked even when the suite runs other threads)."""
    results = []
    monkeypatch.setattr(loyalty_demo, "single_threaded", lambda: True)
    monkeypatch.setattr(loyalty_demo, "BLOCK", 40)
    original = loyalty_demo._result
    monkeypatch.setattr(loyalty_demo, "_result", lambda *args: results.append(1) or original(*args))
    demo.load(300, seed=36)
    assert len(results) >= 5
    first = ledger_rows()
    clear_demo()
    monkeypatch.setattr(loyalty_demo, "BLOCK", 10_000)
    demo.load(300, seed=36)
    assert ledger_rows() == first


def test_loads_beside_another_thread_generate_in_process(monkeypatch):
    """A forked child could wait forever on a lock another thread held: with a
    second thread running, nothing forks, and the rows are the same."""
    import threading

    forked = []  # results that came back from a forked process
    original = loyalty_demo._result
    monkeypatch.setattr(loyalty_demo, "_result", lambda *args: forked.append(1) or original(*args))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        monkeypatch.setattr(loyalty_demo, "BLOCK", 40)
        demo.load(300, seed=36)
    finally:
        stop.set()
        other.join()
    assert forked == []
    rows = ledger_rows()
    clear_demo()
    monkeypatch.setattr(loyalty_demo, "BLOCK", 10_000)
    demo.load(300, seed=36)
    assert ledger_rows() == rows


def test_a_failing_replay_rolls_the_whole_load_back(monkeypatch):
    monkeypatch.setattr(loyalty_demo, "single_threaded", lambda: True)
    monkeypatch.setattr(loyalty_demo, "BLOCK", 40)

    def broken(self, *args):
        raise ValueError("no points today")

    monkeypatch.setattr(demo_replay.Replay, "customer", broken)
    with pytest.raises(RuntimeError, match="no points today"):
        demo.load(300, seed=37)
    assert not Customer.all_objects.exists() and not LoyaltyEntry.objects.exists()
