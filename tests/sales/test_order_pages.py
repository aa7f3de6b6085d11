"""Order and product pages: who sees which orders, filters, lines, and refunds
recorded from the order page."""

import decimal

import pytest

from kehu.sales.models import Order, Refund

from ..conftest import make_customer, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_reps_orders(admin_api, people, catalogue):
    mine = make_customer(owner=people["sales"], name="林小满")
    theirs = make_customer(owner=people["sales_west"], name="周大成")
    batch = {
        "orders": [
            order("M-1", mine, [{"sku": "TEA-1", "quantity": 2, "unit_price": "80.00"}]),
            order("M-2", mine, [{"sku": "CUP-2", "quantity": 1}], status="cancelled"),
            order("W-1", theirs, [{"sku": "TEA-1", "quantity": 1}]),
        ]
    }
    assert admin_api.post("/api/orders/batch/", batch, format="json").json()["created"] == 3
    return mine, theirs


def test_a_rep_lists_only_their_customers_orders_and_filters_them(client, people, two_reps_orders):
    client.force_login(people["sales"])
    page = client.get("/orders/").content.decode()
    assert "M-1" in page and "M-2" in page and "W-1" not in page
    cancelled = client.get("/orders/", {"status": "cancelled"}).content.decode()
    assert "M-2" in cancelled and "M-1" not in cancelled
    found = client.get("/orders/", {"external_id": "M-1"}).content.decode()
    assert 'data-order="M-1"' in found and 'data-order="M-2"' not in found
    west_order = Order.objects.get(external_id="W-1")
    assert client.get(f"/orders/{west_order.pk}/").status_code == 404
    assert "TEA-1" in client.get("/products/").content.decode()


def test_refund_from_the_order_page(client, people, two_reps_orders):
    mine, _theirs = two_reps_orders
    paid = Order.objects.get(external_id="M-1")
    client.force_login(people["sales"])
    detail = client.get(f"/orders/{paid.pk}/").content.decode()
    assert "TEA-1" in detail and 'data-testid="refund-form"' in detail

    too_much = client.post(f"/orders/{paid.pk}/refunds/", {"amount": "500"}, follow=True)
    assert "160.00" in too_much.content.decode()  # what is left to refund
    assert not Refund.objects.exists()

    client.post(
        f"/orders/{paid.pk}/refunds/", {"amount": "60", "reason": "少发一盒", "is_return": "1"}
    )
    paid.refresh_from_db()
    assert paid.refunded_amount == decimal.Decimal("60.00")
    assert paid.status == "partially_refunded"
    refund = Refund.objects.get()
    assert refund.is_return and refund.reason == "少发一盒"
    # The customer's figures follow: net spend 160 − 60.
    assert client.get(f"/api/customers/{mine.pk}/").json()["total_spent"] == "100.00"

    # A read-only user sees the order but may not refund it.
    client.force_login(people["readonly"])
    assert 'data-testid="refund-form"' not in client.get(f"/orders/{paid.pk}/").content.decode()
    client.post(f"/orders/{paid.pk}/refunds/", {"amount": "10"})
    assert Refund.objects.count() == 1
