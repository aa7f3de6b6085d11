"""The customer timeline: every kind merged newest first, filtered, paged by cursor."""

import datetime
import random

import pytest
from django.utils import timezone

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(admin_api, people):
    """A customer with orders, events, interactions, tasks and changes at known times."""
    customer = make_customer(owner=people["sales"], name="时间线")
    admin_api.post(
        "/api/products/", {"sku": "T-1", "name": "茶", "list_price": "10"}, format="json"
    )
    base = timezone.now().replace(microsecond=0) - datetime.timedelta(days=30)
    rng = random.Random(8)
    expected = []
    orders, events = [], []
    for n in range(15):
        at = base + datetime.timedelta(hours=rng.randint(0, 600))
        orders.append(
            {
                "external_id": f"TL-O-{n}",
                "customer": customer.pk,
                "ordered_at": at.isoformat(),
                "lines": [{"sku": "T-1", "quantity": 1}],
            }
        )
        expected.append(("order", at))
    for n in range(40):
        at = base + datetime.timedelta(hours=rng.randint(0, 600))
        if n % 10 == 0 and expected:
            at = expected[-1][1]  # ties across kinds
        events.append(
            {
                "external_id": f"TL-E-{n}",
                "customer": customer.pk,
                "type": "click",
                "occurred_at": at.isoformat(),
            }
        )
        expected.append(("event", at))
    assert (
        admin_api.post("/api/orders/batch/", {"orders": orders}, format="json").json()["created"]
        == 15
    )
    assert (
        admin_api.post("/api/events/batch/", {"events": events}, format="json").json()["created"]
        == 40
    )
    for n in range(5):
        at = base + datetime.timedelta(hours=rng.randint(0, 600))
        response = admin_api.post(
            "/api/interactions/",
            {
                "customer": customer.pk,
                "channel": "phone",
                "subject": f"通话{n}",
                "occurred_at": at.isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201
        expected.append(("interaction", at))
    return customer, expected


def collect(admin_api, customer, **params):
    seen, cursor = [], None
    for _ in range(100):
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        body = admin_api.get(f"/api/customers/{customer.pk}/timeline/", query).json()
        seen.extend(body["results"])
        cursor = body["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("the cursor never ran out")


def test_pages_cover_every_entry_once_newest_first(admin_api, history):
    customer, expected = history
    entries = collect(admin_api, customer, kind="order,event,interaction", limit=7)
    keys = [(e["kind"], e["id"]) for e in entries]
    assert len(keys) == len(set(keys)) == len(expected)
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    from collections import Counter

    assert Counter(e["kind"] for e in entries) == Counter(kind for kind, _ in expected)


def test_all_kinds_include_changes_and_filters_work(admin_api, history):
    customer, expected = history
    everything = collect(admin_api, customer, limit=50)
    kinds = {e["kind"] for e in everything}
    assert {"order", "event", "interaction", "change"} <= kinds
    only_orders = collect(admin_api, customer, kind="order", limit=4)
    assert {e["kind"] for e in only_orders} == {"order"} and len(only_orders) == 15


@pytest.mark.parametrize(
    "params, field",
    [
        ({"kind": "weather"}, "kind"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_timeline_parameters_get_400(admin_api, history, params, field):
    customer, _ = history
    response = admin_api.get(f"/api/customers/{customer.pk}/timeline/", params)
    assert response.status_code == 400 and field in response.json()


def test_timeline_follows_customer_permissions(api, history):
    customer, _ = history
    assert api["sales_west"].get(f"/api/customers/{customer.pk}/timeline/").status_code == 404
    assert api["sales"].get(f"/api/customers/{customer.pk}/timeline/").status_code == 200


def test_timeline_on_the_customer_page_filters_and_pages(admin_api, history, people):
    from django.test import Client

    customer, expected = history
    client = Client()
    client.force_login(people["admin"])
    html = client.get(
        f"/customers/{customer.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert html.count("<li data-kind=") == 30 and "Older" in html
    orders = client.get(f"/customers/{customer.pk}/timeline/", {"kind": "order"}).content.decode()
    assert (
        orders.count('<li data-kind="order"') == 15
        and 'data-kind="event"' not in orders.split("timeline-entries")[1]
    )
    import re

    cursor = re.search(r"cursor=([^&\"]+)", html).group(1)
    from urllib.parse import unquote

    more = client.get(
        f"/customers/{customer.pk}/timeline/", {"cursor": unquote(cursor)}
    ).content.decode()
    assert "<h2>" not in more and more.count("<li data-kind=") > 0
    client.force_login(people["sales_west"])
    assert client.get(f"/customers/{customer.pk}/timeline/").status_code == 404
