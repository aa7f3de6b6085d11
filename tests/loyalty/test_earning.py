"""Points earned on paid orders and reversed on refunds, checked against a plain
computation over the orders the test sent."""

import datetime
import decimal
import random

import pytest

from kehu.loyalty import queries
from kehu.loyalty.models import LoyaltyAccount, LoyaltyEntry
from kehu.sales.models import Order

from ..conftest import make_customer, order

pytestmark = pytest.mark.django_db

D = decimal.Decimal


def points_for(amount_base: D) -> int:
    """The shipped rule, written out: 1 point per whole 10 of the base currency."""
    return int(amount_base // 10)


def balances() -> dict[int, int]:
    return dict(LoyaltyAccount.objects.values_list("customer_id", "balance"))


def assert_ledger_consistent():
    sums: dict[int, int] = {}
    for customer_id, points in LoyaltyEntry.objects.values_list("customer_id", "points"):
        sums[customer_id] = sums.get(customer_id, 0) + points
    assert balances() == sums
    assert queries.ledger_mismatches() == []


def random_batch(rng, customers, prefix, n):
    orders, expected = [], {}
    for i in range(n):
        customer = rng.choice(customers)
        currency = rng.choice(["CNY", "CNY", "USD", "EUR"])
        status = rng.choice(["paid", "paid", "paid", "cancelled"])
        lines = [
            {
                "sku": rng.choice(["TEA-1", "CUP-2"]),
                "quantity": rng.randint(1, 4),
                "unit_price": f"{rng.randint(100, 30000) / 100:.2f}",
                "discount": rng.choice(["0", "0", "1.50"]),
            }
            for _ in range(rng.randint(1, 3))
        ]
        external_id = f"{prefix}-{i}"
        orders.append(order(external_id, customer, lines, currency=currency, status=status))
        amount = sum(
            (D(line["quantity"]) * D(line["unit_price"])).quantize(D("0.01")) - D(line["discount"])
            for line in lines
        )
        rate = {"CNY": D(1), "USD": D("7.10"), "EUR": D("7.745")}[currency]
        base = (amount * rate).quantize(D("0.01"), decimal.ROUND_HALF_UP)
        expected[external_id] = (customer.pk, status, base)
    return orders, expected


def test_paid_orders_earn_by_the_rule_once(admin_api, people, catalogue, settings):
    settings.KEHU_EXCHANGE_RATES = {"USD": "7.10", "EUR": "7.745"}
    rng = random.Random(7)
    customers = [make_customer(owner=people["sales"], name=f"会员{i}") for i in range(8)]
    first, expected = random_batch(rng, customers, "A", 80)
    second, more = random_batch(rng, customers, "B", 60)
    expected |= more
    for batch in (first, second):
        body = admin_api.post("/api/orders/batch/", {"orders": batch}, format="json").json()
        assert body["created"] == len(batch) and not body["rejected"], body

    want: dict[int, int] = {}
    for customer_id, status, base in expected.values():
        if status == "paid" and points_for(base):
            want[customer_id] = want.get(customer_id, 0) + points_for(base)
    assert balances() == want
    earned = {
        e.order_ref: e.points for e in LoyaltyEntry.objects.filter(kind="earn").order_by("id")
    }
    assert earned == {
        ref: points_for(base)
        for ref, (_, status, base) in expected.items()
        if status == "paid" and points_for(base)
    }
    # Earned points expire 24 months after the order, and the entry names its order.
    entry = LoyaltyEntry.objects.filter(kind="earn").first()
    order_row = Order.objects.get(external_id=entry.order_ref)
    assert entry.order_id == order_row.pk and entry.occurred_at == order_row.ordered_at
    assert entry.expires_at == datetime.datetime(2028, 3, 1, 2, 0, tzinfo=datetime.UTC)
    assert entry.remaining == entry.points and entry.channel == "api"
    assert entry.created_by == people["admin"]

    # Re-sending both batches earns nothing more.
    for batch in (first, second):
        body = admin_api.post("/api/orders/batch/", {"orders": batch}, format="json").json()
        assert body["created"] == 0
    assert balances() == want
    assert LoyaltyEntry.objects.count() == len(earned)
    assert_ledger_consistent()
    # Lifetime points follow earnings.
    lifetime = dict(LoyaltyAccount.objects.values_list("customer_id", "lifetime_points"))
    assert lifetime == want


def test_rule_minimum_and_inactive_rule(admin_api, people, catalogue):
    customer = make_customer(owner=people["sales"])
    response = admin_api.put(
        f"/api/loyalty/earn-rules/{admin_api.get('/api/loyalty/earn-rules/').json()[0]['id']}/",
        {"name": "双倍", "unit_amount": "10", "points_per_unit": 2, "minimum_amount": "50"},
        format="json",
    )
    assert response.status_code == 200, response.content
    batch = [
        order("M-1", customer, [{"sku": "CUP-2", "quantity": 2}]),  # 39.80: below minimum
        order("M-2", customer, [{"sku": "TEA-1", "quantity": 1}]),  # 88.00: 8 units × 2
    ]
    admin_api.post("/api/orders/batch/", {"orders": batch}, format="json")
    assert balances() == {customer.pk: 16}
    rule_id = response.json()["id"]
    assert admin_api.delete(f"/api/loyalty/earn-rules/{rule_id}/").status_code == 204
    admin_api.post(
        "/api/orders/batch/",
        {"orders": [order("M-3", customer, [{"sku": "TEA-1", "quantity": 1}])]},
        format="json",
    )
    assert balances() == {customer.pk: 16}  # no active rule: nothing earned


def refund(api, external_id, amount):
    order_id = Order.objects.get(external_id=external_id).pk
    response = api.post(f"/api/orders/{order_id}/refund/", {"amount": str(amount)}, format="json")
    assert response.status_code == 201, response.content


def test_refunds_reverse_in_proportion_never_more_than_earned(admin_api, people, catalogue):
    customer = make_customer(owner=people["sales"])
    lines = [{"sku": "TEA-1", "quantity": 3, "unit_price": "99.99"}]  # 299.97: 29 points
    admin_api.post("/api/orders/batch/", {"orders": [order("R-1", customer, lines)]}, format="json")
    total, earned = D("299.97"), 29
    assert balances() == {customer.pk: earned}
    refunded = D(0)
    reversed_so_far = 0
    for amount in (D("15.00"), D("0.01"), D("100.00"), D("184.96")):
        refund(admin_api, "R-1", amount)
        refunded += amount
        # Independent: the customer keeps the points of the money kept, rounded down.
        kept_points = int(earned * (total - refunded) / total)
        reversed_so_far = earned - kept_points
        assert balances()[customer.pk] == earned - reversed_so_far
    assert refunded == total and balances()[customer.pk] == 0
    reversals = list(
        LoyaltyEntry.objects.filter(kind="reverse").values_list("points", flat=True).order_by("id")
    )
    assert sum(reversals) == -earned and all(p < 0 for p in reversals)
    assert_ledger_consistent()


def test_refund_of_spent_points_leaves_a_debt_the_next_earning_pays(
    admin_api, api, people, catalogue
):
    customer = make_customer(owner=people["sales"])
    admin_api.post(
        "/api/orders/batch/",
        {"orders": [order("S-1", customer, [{"sku": "TEA-1", "quantity": 2}])]},  # 17 points
        format="json",
    )
    redeemed = api["sales"].post(
        "/api/loyalty/entries/",
        {"customer": customer.pk, "kind": "redeem", "points": 15, "reason": "茶具"},
        format="json",
    )
    assert redeemed.status_code == 201, redeemed.content
    assert redeemed.json()["balance"] == 2
    refund(admin_api, "S-1", "176.00")
    assert balances()[customer.pk] == 2 - 17
    # Nothing can be redeemed while in debt.
    refused = api["sales"].post(
        "/api/loyalty/entries/",
        {"customer": customer.pk, "kind": "redeem", "points": 1},
        format="json",
    )
    assert refused.status_code == 400 and "points" in refused.json()
    # The next earnings pay the debt first: only what is above it can be spent.
    admin_api.post(
        "/api/orders/batch/",
        {"orders": [order("S-2", customer, [{"sku": "TEA-1", "quantity": 3}])]},  # 26 points
        format="json",
    )
    assert balances()[customer.pk] == -15 + 26
    credit = LoyaltyEntry.objects.get(order_ref="S-2", kind="earn")
    assert credit.points == 26 and credit.remaining == 11
    assert_ledger_consistent()


def test_cancelled_orders_and_orders_of_other_customers_earn_nothing(
    admin_api, api, people, catalogue
):
    own = make_customer(owner=people["sales"])
    other = make_customer(owner=people["sales_west"])
    body = (
        api["sales"]
        .post(
            "/api/orders/batch/",
            {
                "orders": [
                    order("C-1", own, [{"sku": "TEA-1", "quantity": 1}], status="cancelled"),
                    order("C-2", other, [{"sku": "TEA-1", "quantity": 1}]),  # rejected
                    order("C-3", own, [{"sku": "CUP-2", "quantity": 1}]),  # 19.90: 1 point
                ]
            },
            format="json",
        )
        .json()
    )
    assert body["created"] == 2
    assert balances() == {own.pk: 1}


def test_a_failing_earning_rolls_the_batch_back(admin_api, people, catalogue, monkeypatch):
    from kehu.loyalty import services

    def broken(**kwargs):
        raise RuntimeError("points store down")

    monkeypatch.setattr(services, "earn_for_orders", broken)
    customer = make_customer(owner=people["sales"])
    with pytest.raises(RuntimeError):
        admin_api.post(
            "/api/orders/batch/",
            {"orders": [order("F-1", customer, [{"sku": "TEA-1", "quantity": 1}])]},
            format="json",
        )
    assert not Order.objects.filter(external_id="F-1").exists()
