"""Redemptions take the points that expire first; expiry takes what is left of each
credit; the balance is always the sum of the entries. Checked against a plain
Python model of the same operations."""

import datetime
import json
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.core.changelog import Actor
from kehu.loyalty import queries, services
from kehu.loyalty.models import LoyaltyAccount, LoyaltyEntry

from ..conftest import make_customer, order

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def two_years_later(moment: datetime.datetime) -> datetime.datetime:
    # Days up to the 28th only: a calendar date two years on always exists.
    return moment.replace(year=moment.year + 2)


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime.datetime(2026, 1, 5, 4, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def earn(admin_api, customer, external_id, amount, ordered_at):
    lines = [{"sku": "TEA-1", "quantity": 1, "unit_price": f"{amount}.00"}]
    body = admin_api.post(
        "/api/orders/batch/",
        {"orders": [order(external_id, customer, lines, ordered_at=ordered_at.isoformat())]},
        format="json",
    ).json()
    assert body["created"] == 1, body


def test_fifo_redemption_then_expiry(admin_api, api, people, catalogue, clock):
    customer = make_customer(owner=people["sales"])
    dates = [
        datetime.datetime(2025, 1, 10, 4, tzinfo=UTC),
        datetime.datetime(2025, 3, 15, 4, tzinfo=UTC),
        datetime.datetime(2025, 8, 1, 4, tzinfo=UTC),
        datetime.datetime(2025, 12, 1, 4, tzinfo=UTC),
    ]
    for n, (moment, amount) in enumerate(zip(dates, (100, 200, 300, 400), strict=True)):
        earn(admin_api, customer, f"F-{n}", amount, moment)
    grant = api["sales"].post(
        "/api/loyalty/entries/",
        {"customer": customer.pk, "kind": "grant", "points": 7, "reason": "生日礼"},
        format="json",
    )
    assert grant.status_code == 201, grant.content
    assert grant.json()["expires_at"].startswith("2028-01-05")
    redeem = api["sales"].post(
        "/api/loyalty/entries/",
        {"customer": customer.pk, "kind": "redeem", "points": 25, "reason": "兑换茶杯"},
        format="json",
    )
    assert redeem.status_code == 201 and redeem.json()["balance"] == 100 + 7 - 25
    remaining = dict(
        LoyaltyEntry.objects.filter(kind__in=["earn", "grant"]).values_list(
            "order_ref", "remaining"
        )
    )
    assert remaining == {"F-0": 0, "F-1": 5, "F-2": 30, "F-3": 40, "": 7}

    # 2027-03-20: F-0 (nothing left) and F-1 (5 left) are past their expiry.
    as_of = datetime.datetime(2027, 3, 20, tzinfo=UTC)
    assert services.expire_points(as_of=as_of) == 1
    expired = LoyaltyEntry.objects.get(kind="expire")
    assert expired.points == -5 and expired.occurred_at == two_years_later(dates[1])
    assert expired.source.order_ref == "F-1"
    assert services.expire_points(as_of=as_of) == 0  # idempotent
    assert LoyaltyAccount.objects.get().balance == 107 - 25 - 5

    out = StringIO()
    call_command("loyalty", "expire", "--as-of", "2030-01-01", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"expired_credits": 3}
    account = LoyaltyAccount.objects.get()
    assert account.balance == 0 and account.lifetime_points == 107
    assert not LoyaltyEntry.objects.filter(remaining__gt=0).exists()
    out = StringIO()
    call_command("loyalty", "check", stdout=out)
    assert "Every balance" in out.getvalue()


def test_points_past_expiry_cannot_be_redeemed(admin_api, api, people, catalogue, clock):
    customer = make_customer(owner=people["sales"])
    earn(admin_api, customer, "X-1", 500, datetime.datetime(2023, 6, 1, 4, tzinfo=UTC))
    earn(admin_api, customer, "X-2", 100, datetime.datetime(2025, 6, 1, 4, tzinfo=UTC))
    # The expiry job has not run, but a redemption does not spend expired points.
    refused = api["sales"].post(
        "/api/loyalty/entries/",
        {"customer": customer.pk, "kind": "redeem", "points": 11},
        format="json",
    )
    assert refused.status_code == 400
    assert "10" in refused.json()["points"][0]
    ok = api["sales"].post(
        "/api/loyalty/entries/",
        {"customer": customer.pk, "kind": "redeem", "points": 10},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["balance"] == 0
    # The redemption wrote the expiry that was due first.
    assert list(LoyaltyEntry.objects.order_by("id").values_list("kind", "points")) == [
        ("earn", 50),
        ("earn", 10),
        ("expire", -50),
        ("redeem", -10),
    ]


def model_expire(lots, as_of):
    for lot in lots:
        if lot["expires_at"] <= as_of and lot["remaining"] > 0:
            lot["expired"] += lot["remaining"]
            lot["remaining"] = 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_operations_match_a_plain_model(admin_api, people, catalogue, clock, seed):
    rng = random.Random(seed)
    customer = make_customer(owner=people["sales"])
    actor = Actor(people["sales"], "api")
    lots: list[dict] = []  # the model: one per credit, in creation order
    redeemed = 0
    for step in range(40):
        clock.now += datetime.timedelta(days=rng.randint(0, 60))
        clock.now = clock.now.replace(day=min(clock.now.day, 28))
        op = rng.choice(["earn", "earn", "grant", "redeem", "redeem", "expire"])
        if op == "earn":
            moment = clock.now - datetime.timedelta(days=rng.randint(0, 900))
            moment = moment.replace(day=min(moment.day, 28))
            amount = rng.randint(5, 900)
            earn(admin_api, customer, f"E-{step}", amount, moment)
            if amount // 10:
                lots.append(
                    {
                        "ref": f"E-{step}",
                        "expires_at": two_years_later(moment),
                        "occurred": moment,
                        "seq": step,
                        "remaining": amount // 10,
                        "expired": 0,
                    }
                )
        elif op == "grant":
            points = rng.randint(1, 50)
            services.entry_create(
                actor=actor,
                customer=customer,
                data={"kind": "grant", "points": points, "reason": "x"},
            )
            lots.append(
                {
                    "ref": f"grant-{step}",
                    "expires_at": two_years_later(clock.now),
                    "occurred": clock.now,
                    "seq": step,
                    "remaining": points,
                    "expired": 0,
                }
            )
        elif op == "redeem":
            model_expire(lots, clock.now)
            available = sum(lot["remaining"] for lot in lots)
            points = rng.randint(1, max(1, available + 5))
            if points > available:
                with pytest.raises(services.ValidationError):
                    services.entry_create(
                        actor=actor, customer=customer, data={"kind": "redeem", "points": points}
                    )
                continue
            services.entry_create(
                actor=actor, customer=customer, data={"kind": "redeem", "points": points}
            )
            redeemed += 1
            for lot in sorted(lots, key=lambda x: (x["expires_at"], x["occurred"], x["seq"])):
                take = min(lot["remaining"], points)
                lot["remaining"] -= take
                points -= take
        else:
            model_expire(lots, clock.now)
            services.expire_points(as_of=clock.now)

    model_expire(lots, clock.now)
    services.expire_points(as_of=clock.now)
    account = LoyaltyAccount.objects.get(customer=customer)
    assert account.balance == sum(lot["remaining"] for lot in lots)
    assert account.balance == sum(LoyaltyEntry.objects.values_list("points", flat=True))
    assert queries.ledger_mismatches() == []
    credits = LoyaltyEntry.objects.filter(kind__in=["earn", "grant"]).order_by("id")
    stored = [(e.expires_at, e.remaining) for e in credits]
    assert stored == [(lot["expires_at"], lot["remaining"]) for lot in lots]
    expired = {e.source_id: -e.points for e in LoyaltyEntry.objects.filter(kind="expire")}
    assert [expired.get(e.pk, 0) for e in credits] == [lot["expired"] for lot in lots]
    assert redeemed and any(lot["expired"] for lot in lots)  # the run tried both


def test_a_purged_customer_takes_their_points_with_them(api, people, clock):
    from kehu.customers import services as customer_services
    from kehu.customers.models import Customer

    customer = make_customer(owner=people["sales"])
    actor = Actor(people["admin"], "api")
    services.entry_create(
        actor=actor, customer=customer, data={"kind": "grant", "points": 30, "reason": "x"}
    )
    services.entry_create(actor=actor, customer=customer, data={"kind": "redeem", "points": 10})
    services.expire_points(as_of=clock.now + datetime.timedelta(days=800))
    assert LoyaltyEntry.objects.filter(kind="expire").count() == 1
    customer_services.customer_delete(actor=actor, customer=customer)
    later = clock.now + datetime.timedelta(days=40)
    assert customer_services.customers_purge(actor=actor, older_than_days=30, now=later) == 1
    assert not Customer.all_objects.filter(pk=customer.pk).exists()
    assert not LoyaltyEntry.objects.exists() and not LoyaltyAccount.objects.exists()


@pytest.mark.parametrize(
    "moment, months, expected",
    [
        # Local (Asia/Shanghai) calendar months; a shorter month ends on its last day.
        ("2026-01-31T02:00:00+00:00", 1, "2026-02-28T02:00:00+00:00"),
        ("2027-01-31T02:00:00+00:00", 13, "2028-02-29T02:00:00+00:00"),
        ("2026-03-31T20:00:00+00:00", 24, "2028-03-31T20:00:00+00:00"),  # 1 April local
        ("2026-11-24T04:00:00+00:00", 0, None),
    ],
)
def test_expiry_dates(moment, months, expected):
    from kehu.loyalty.ledger import expiry_for

    result = expiry_for(datetime.datetime.fromisoformat(moment), months)
    assert result == (datetime.datetime.fromisoformat(expected) if expected else None)


def test_points_never_expire_when_the_setting_is_zero(api, people, settings):
    settings.KEHU_LOYALTY_EXPIRY_MONTHS = 0
    customer = make_customer(owner=people["sales"])
    actor = Actor(people["sales"], "api")
    services.entry_create(
        actor=actor, customer=customer, data={"kind": "grant", "points": 9, "reason": "x"}
    )
    assert LoyaltyEntry.objects.get().expires_at is None
    assert services.expire_points(as_of=timezone.now() + datetime.timedelta(days=10_000)) == 0
    assert LoyaltyAccount.objects.get().balance == 9
