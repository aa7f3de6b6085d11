"""Behaviour events: batch ingestion, idempotency, anonymous visitors, summaries."""

import datetime
import random

import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone

from kehu.engagement.models import BehaviourEvent
from kehu.engagement.queries import behaviour_summary

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def event(external_id, customer=None, kind="page_view", when=None, **extra):
    when = when or timezone.now()
    body = {"external_id": external_id, "type": kind, "occurred_at": when.isoformat(), **extra}
    if customer is not None:
        body["customer"] = customer.pk
    return body


def test_batch_rejects_bad_events_keeps_good_ones_and_is_idempotent(admin_api, people):
    customer = make_customer(owner=people["sales"])
    batch = {
        "events": [
            event("E-1", customer, properties={"url": "/tea", "category": "茶叶"}),
            event("E-2", customer, kind="teleport"),
            event("E-3", anonymous_id="visitor-9"),
            {"external_id": "E-4", "type": "click", "occurred_at": "2026-01-01T00:00:00Z"},
            event("E-5", customer, properties=["not", "an", "object"]),
            event("E-6", customer, properties={"blob": "x" * 9000}),
            event("E-1", customer),
            {**event("E-7"), "customer": 999999},
            {**event("E-8", customer), "occurred_at": "soon"},
        ]
    }
    body = admin_api.post("/api/events/batch/", batch, format="json").json()
    assert body["created"] == 2 and body["duplicates"] == 1
    rejected = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(rejected) == {1, 3, 4, 5, 7, 8}
    assert "type" in rejected[1] and "customer" in rejected[3]
    assert "properties" in rejected[4] and "properties" in rejected[5]
    assert "customer" in rejected[7] and "occurred_at" in rejected[8]
    stored = BehaviourEvent.objects.get(external_id="E-1")
    assert stored.properties == {"url": "/tea", "category": "茶叶"}
    again = admin_api.post("/api/events/batch/", batch, format="json").json()
    assert again["created"] == 0 and again["duplicates"] == 3
    assert BehaviourEvent.objects.count() == 2


@pytest.mark.parametrize("body", [[1, 2], {"events": {}}, {"nope": []}, {"events": [{}] * 10_001}])
def test_malformed_event_batches_are_refused(admin_api, body):
    assert admin_api.post("/api/events/batch/", body, format="json").status_code == 400


def test_summary_counts_match_an_independent_computation(admin_api, people):
    customer = make_customer(owner=people["sales"])
    now = timezone.now()
    rng = random.Random(4)
    rows, events = [], []
    for n in range(300):
        kind = rng.choice(["page_view", "click", "add_to_cart", "search"])
        when = now - datetime.timedelta(hours=rng.randint(1, 24 * 120))
        category = rng.choice(["茶叶", "茶具", "礼盒"])
        events.append(
            event(f"S-{n}", customer, kind=kind, when=when, properties={"category": category})
        )
        rows.append({"type": kind, "when": when, "category": category})
    assert (
        admin_api.post("/api/events/batch/", {"events": events}, format="json").json()["created"]
        == 300
    )
    summary = behaviour_summary(customer, now=now)
    frame = pd.DataFrame(rows)
    for days in (7, 30, 90):
        recent = frame[frame["when"] >= now - datetime.timedelta(days=days)]
        expected = recent.groupby("type").size().to_dict()
        got = {k: v[days] for k, v in summary["counts"].items() if v[days]}
        assert got == expected, days
    views = frame[
        (frame["type"] == "page_view") & (frame["when"] >= now - datetime.timedelta(days=90))
    ]
    top = views.groupby("category").size().sort_values(ascending=False)
    assert summary["top_categories"][0][1] == top.iloc[0]
    assert summary["last_seen_at"] == frame["when"].max()
    assert summary["event_count"] == 300


def test_anonymous_events_are_linked_when_the_visitor_is_identified(admin_api, people):
    customer = make_customer(owner=people["sales"])
    admin_api.post(
        "/api/events/batch/",
        {
            "events": [
                event("A-1", anonymous_id="v-1"),
                event("A-2", anonymous_id="v-1"),
                event("A-3", anonymous_id="v-2"),
            ]
        },
        format="json",
    )
    response = admin_api.post(
        "/api/events/link/", {"anonymous_id": "v-1", "customer": customer.pk}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"linked": 2}
    assert set(
        BehaviourEvent.objects.filter(customer=customer).values_list("external_id", flat=True)
    ) == {"A-1", "A-2"}
    assert behaviour_summary(customer)["event_count"] == 2
    again = admin_api.post(
        "/api/events/link/", {"anonymous_id": "v-1", "customer": customer.pk}, format="json"
    )
    assert again.json() == {"linked": 0}


def test_events_follow_customer_permissions(api, people):
    own = make_customer(owner=people["sales"])
    other = make_customer(owner=people["sales_west"])
    batch = {"events": [event("P-1", own), event("P-2", other)]}
    body = api["sales"].post("/api/events/batch/", batch, format="json").json()
    assert body["created"] == 1 and body["rejected"][0]["index"] == 1
    assert api["analyst"].post("/api/events/batch/", batch, format="json").status_code == 403
    assert api["sales_west"].get("/api/events/").json()["results"] == []
    assert [e["external_id"] for e in api["sales"].get("/api/events/").json()["results"]] == ["P-1"]
    denied = api["sales_west"].post(
        "/api/events/link/", {"anonymous_id": "x", "customer": own.pk}, format="json"
    )
    assert denied.status_code == 404


def test_customer_page_shows_behaviour(admin_api, people):
    customer = make_customer(owner=people["sales"])
    client = Client()
    client.force_login(people["sales"])
    assert 'id="behaviour"' not in client.get(f"/customers/{customer.pk}/").content.decode()
    admin_api.post(
        "/api/events/batch/",
        {"events": [event("B-1", customer, properties={"category": "茶具"})]},
        format="json",
    )
    html = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="behaviour"' in html and "茶具" in html


def test_a_customer_with_many_events_gets_the_behaviour_section_after_the_page(
    admin_api, people, monkeypatch
):
    from kehu.engagement import views

    monkeypatch.setattr(views, "INLINE_EVENT_LIMIT", 2)
    customer = make_customer(owner=people["sales"])
    other = make_customer(owner=people["sales_west"])
    events = [event(f"M-{n}", customer, properties={"category": "茶叶"}) for n in range(3)]
    admin_api.post("/api/events/batch/", {"events": events}, format="json")
    client = Client()
    client.force_login(people["sales"])
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'hx-get="/customers/{customer.pk}/behaviour/"' in page and "茶叶" not in page
    section = client.get(f"/customers/{customer.pk}/behaviour/").content.decode()
    assert 'id="behaviour"' in section and "茶叶 (3)" in section and "hx-get" not in section
    # Like the page, the section is only for those who may see the customer.
    assert client.get(f"/customers/{other.pk}/behaviour/").status_code == 404


def test_purging_a_customer_removes_their_events(admin_api, people):
    import datetime as dt

    from kehu.core.changelog import Actor
    from kehu.customers import services as customer_services

    customer = make_customer(owner=people["sales"])
    admin_api.post("/api/events/batch/", {"events": [event("X-1", customer)]}, format="json")
    customer_services.customer_delete(actor=Actor(people["admin"]), customer=customer)
    later = timezone.now() + dt.timedelta(days=40)
    assert customer_services.customers_purge(actor=Actor(None), older_than_days=30, now=later) == 1
    assert not BehaviourEvent.objects.filter(external_id="X-1").exists()
