"""Products, orders, batch ingestion, refunds and the customers' purchase figures."""

import decimal
import random

import pandas as pd
import pytest

from kehu.sales.models import Order, OrderLine, Product

from ..conftest import api_client_for, make_customer, order

pytestmark = pytest.mark.django_db

D = decimal.Decimal


def test_batch_keeps_valid_orders_rejects_bad_ones_and_is_idempotent(admin_api, people, catalogue):
    alice = make_customer(owner=people["sales"], name="爱丽丝")
    batch = {
        "orders": [
            order("A-1", alice, [{"sku": "TEA-1", "quantity": 2, "unit_price": "80.00"}]),
            order("A-2", alice, [{"sku": "NOPE", "quantity": 1}]),
            order("A-3", alice, [{"sku": "CUP-2", "quantity": 3, "discount": "4.70"}]),
            {**order("A-4", alice, [{"sku": "TEA-1", "quantity": 1}]), "customer": 999999},
            {**order("A-5", alice, [{"sku": "TEA-1", "quantity": 1}]), "ordered_at": "yesterday"},
            order("A-1", alice, [{"sku": "TEA-1", "quantity": 9}]),  # repeated in the batch
            "not an order",
            order("A-6", alice, [{"sku": "TEA-1", "quantity": "0"}]),
            order("A-7", alice, [{"sku": "CUP-2", "quantity": 1, "discount": "20"}]),
        ]
    }
    response = admin_api.post("/api/orders/batch/", batch, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 2 and body["duplicates"] == 1
    rejected = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(rejected) == {1, 3, 4, 6, 7, 8}
    assert "lines.0.sku" in rejected[1]
    assert "customer" in rejected[3]
    assert "ordered_at" in rejected[4]
    assert "non_field_errors" in rejected[6]
    assert "lines.0.quantity" in rejected[7]
    assert "lines.0.discount" in rejected[8]
    a1 = Order.objects.get(external_id="A-1")
    assert a1.amount == D("160.00") and a1.lines.get().quantity == 2
    assert Order.objects.get(external_id="A-3").amount == D("19.90") * 3 - D("4.70")

    again = admin_api.post("/api/orders/batch/", batch, format="json").json()
    assert again["created"] == 0 and again["duplicates"] == 3
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [["not", "an", "object"], {"orders": "nope"}, {"nothing": []}, {"orders": [{}] * 10_001}],
)
def test_malformed_batches_are_refused_whole(admin_api, body):
    response = admin_api.post("/api/orders/batch/", body, format="json")
    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_purchase_figures_match_an_independent_computation(admin_api, people, catalogue, settings):
    settings.KEHU_EXCHANGE_RATES = {"USD": "7.10"}
    rng = random.Random(3)
    customers = [make_customer(owner=people["sales"], name=f"客户{i}") for i in range(6)]
    rows, orders = [], []
    for n in range(60):
        customer = rng.choice(customers[:5])  # the sixth never buys
        currency = rng.choice(["CNY", "CNY", "USD"])
        status = rng.choice(["paid", "paid", "paid", "cancelled"])
        lines = [
            {
                "sku": rng.choice(["TEA-1", "CUP-2"]),
                "quantity": rng.randint(1, 5),
                "unit_price": f"{rng.randint(100, 9999) / 100:.2f}",
            }
            for _ in range(rng.randint(1, 3))
        ]
        moment = (
            f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)}T{rng.randint(10, 20)}:00:00+08:00"
        )
        orders.append(
            order(f"O-{n}", customer, lines, currency=currency, status=status, ordered_at=moment)
        )
        amount = sum(D(str(line["quantity"])) * D(line["unit_price"]) for line in lines)
        rows.append(
            {
                "external_id": f"O-{n}",
                "customer": customer.pk,
                "amount": amount,
                "rate": D("7.10") if currency == "USD" else D(1),
                "status": status,
                "ordered_at": pd.Timestamp(moment),
            }
        )
    # Two batches: the second adds to figures the first set.
    for half in (orders[:30], orders[30:]):
        result = admin_api.post("/api/orders/batch/", {"orders": half}, format="json").json()
        assert result["created"] == 30, result
    # Refund part of one paid order and all of another.
    paid = [r for r in rows if r["status"] == "paid"]
    partial, full = paid[0], paid[1]
    for row, amount in ((partial, D("1.00")), (full, row_amount(full))):
        order_id = Order.objects.get(external_id=row["external_id"]).pk
        response = admin_api.post(
            f"/api/orders/{order_id}/refund/", {"amount": str(amount)}, format="json"
        )
        assert response.status_code == 201, response.content
        row["refunded"] = amount
        row["status"] = "refunded" if amount == row["amount"] else "partially_refunded"

    frame = pd.DataFrame(rows)
    frame["refunded"] = frame.get("refunded").fillna(D(0)) if "refunded" in frame else D(0)
    counted = frame[frame["status"].isin(["paid", "partially_refunded"])].copy()
    counted["net"] = (counted["amount"] - counted["refunded"]) * counted["rate"]
    expected = counted.groupby("customer").agg(
        order_count=("external_id", "count"),
        total_spent=("net", "sum"),
        first=("ordered_at", "min"),
        last=("ordered_at", "max"),
    )
    api = api_client_for(people["admin"])
    for customer in customers:
        data = api.get(f"/api/customers/{customer.pk}/").json()
        if customer.pk not in expected.index:
            assert data["order_count"] == 0 and D(data["total_spent"]) == 0
            assert data["first_purchase_at"] is None
            continue
        row = expected.loc[customer.pk]
        assert data["order_count"] == row["order_count"]
        assert D(data["total_spent"]) == D(row["total_spent"]).quantize(D("0.01"))
        assert pd.Timestamp(data["first_purchase_at"]) == row["first"]
        assert pd.Timestamp(data["last_purchase_at"]) == row["last"]


def row_amount(row):
    return row["amount"]


def test_refund_rules(admin_api, people, catalogue):
    customer = make_customer(owner=people["sales"], name="退款")
    admin_api.post(
        "/api/orders/batch/",
        {
            "orders": [
                order("R-1", customer, [{"sku": "TEA-1", "quantity": 1}]),
                order("R-2", customer, [{"sku": "TEA-1", "quantity": 1}], status="cancelled"),
            ]
        },
        format="json",
    )
    r1 = Order.objects.get(external_id="R-1")
    r2 = Order.objects.get(external_id="R-2")
    too_much = admin_api.post(f"/api/orders/{r1.pk}/refund/", {"amount": "88.01"}, format="json")
    assert too_much.status_code == 400 and "amount" in too_much.json()
    cancelled = admin_api.post(f"/api/orders/{r2.pk}/refund/", {"amount": "1"}, format="json")
    assert cancelled.status_code == 400
    ok = admin_api.post(
        f"/api/orders/{r1.pk}/refund/",
        {"amount": "88.00", "reason": "破损", "is_return": True},
        format="json",
    )
    assert ok.status_code == 201
    r1.refresh_from_db()
    assert r1.status == "refunded" and r1.refunded_amount == D("88.00")
    summary = admin_api.get(f"/api/customers/{customer.pk}/").json()
    assert summary["order_count"] == 0 and summary["total_spent"] == "0.00"


def test_currency_without_rate_is_rejected(admin_api, people, catalogue, settings):
    settings.KEHU_EXCHANGE_RATES = {}
    customer = make_customer(owner=people["sales"])
    body = admin_api.post(
        "/api/orders/batch/",
        {"orders": [order("U-1", customer, [{"sku": "TEA-1", "quantity": 1}], currency="USD")]},
        format="json",
    ).json()
    assert body["created"] == 0 and "currency" in body["rejected"][0]["errors"]


def test_orders_follow_customer_permissions(api, people, catalogue):
    own = make_customer(owner=people["sales"], name="自己的")
    other = make_customer(owner=people["sales_west"], name="别人的")
    batch = {
        "orders": [
            order("P-1", own, [{"sku": "TEA-1", "quantity": 1}]),
            order("P-2", other, [{"sku": "TEA-1", "quantity": 1}]),
        ]
    }
    body = api["sales"].post("/api/orders/batch/", batch, format="json").json()
    assert body["created"] == 1 and body["rejected"][0]["index"] == 1
    assert api["analyst"].post("/api/orders/batch/", batch, format="json").status_code == 403
    seen = [o["external_id"] for o in api["sales_west"].get("/api/orders/").json()["results"]]
    assert seen == []
    seen = [o["external_id"] for o in api["analyst"].get("/api/orders/").json()["results"]]
    assert seen == ["P-1"]
    order_id = Order.objects.get(external_id="P-1").pk
    assert api["sales_west"].get(f"/api/orders/{order_id}/").status_code == 404
    assert (
        api["sales"]
        .post("/api/products/", {"sku": "X", "name": "x", "list_price": "1"}, format="json")
        .status_code
        == 403
    )


def test_single_order_create_and_change_log(admin_api, people, catalogue):
    customer = make_customer(owner=people["sales"])
    response = admin_api.post(
        "/api/orders/", order("S-1", customer, [{"sku": "CUP-2", "quantity": 2}]), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "39.80"
    again = admin_api.post(
        "/api/orders/", order("S-1", customer, [{"sku": "CUP-2", "quantity": 2}]), format="json"
    )
    assert again.status_code == 400 and "external_id" in again.json()
    history = admin_api.get(f"/api/customers/{customer.pk}/history/").json()
    assert any(e["object_type"] == "order" and e["action"] == "create" for e in history)


def test_purge_keeps_a_deleted_customer_with_orders(admin_api, people, catalogue):
    import datetime

    from django.utils import timezone

    from kehu.core.changelog import Actor
    from kehu.customers import services as customer_services
    from kehu.customers.models import Customer

    buyer = make_customer(owner=people["sales"], name="有订单")
    idle = make_customer(owner=people["sales"], name="无订单")
    admin_api.post(
        "/api/orders/", order("K-1", buyer, [{"sku": "TEA-1", "quantity": 1}]), format="json"
    )
    for customer in (buyer, idle):
        customer_services.customer_delete(actor=Actor(people["admin"]), customer=customer)
    later = timezone.now() + datetime.timedelta(days=40)
    purged = customer_services.customers_purge(actor=Actor(None), older_than_days=30, now=later)
    assert purged == 1
    assert Customer.all_objects.filter(pk=buyer.pk).exists()
    assert not Customer.all_objects.filter(pk=idle.pk).exists()
    assert Order.objects.filter(customer=buyer).count() == 1


def test_customer_page_shows_orders_and_figures(admin_api, people, catalogue):
    from django.test import Client

    customer = make_customer(owner=people["sales"], name="买家")
    admin_api.post(
        "/api/orders/batch/",
        {
            "orders": [
                order("V-1", customer, [{"sku": "TEA-1", "quantity": 2}]),
                order("V-2", customer, [{"sku": "CUP-2", "quantity": 1}], status="cancelled"),
            ]
        },
        format="json",
    )
    client = Client()
    client.force_login(people["sales"])
    html = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-order="V-1"' in html and 'data-order="V-2"' in html
    assert "176.00" in html  # 2 × 88.00, the cancelled order not counted
    client.force_login(people["sales_west"])
    assert client.get(f"/customers/{customer.pk}/").status_code == 404


def test_product_updates_carry_their_version(admin_api, catalogue):
    product = catalogue["TEA-1"]
    url = f"/api/products/{product.pk}/"
    assert admin_api.patch(url, {"name": "龙井"}, format="json").status_code == 400
    ok = admin_api.patch(url, {"name": "龙井", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = admin_api.patch(url, {"list_price": "99.00", "version": 1}, format="json")
    assert stale.status_code == 409
    product.refresh_from_db()
    assert product.name == "龙井" and product.list_price == D("88.00")
    assert admin_api.delete(url).status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert Product.all_objects.filter(pk=product.pk, deleted_at__isnull=False).exists()
