"""Both ways of serving a sorted list page (fetch-and-sort, walk-the-sort-order) give
the same rows as an independent computation, for every role, filter and order."""

import random
import re

import pytest
from django.test import Client

from kehu.customers import filtersets, queries
from kehu.customers.models import Customer

from ..conftest import api_client_for, make_customer

pytestmark = pytest.mark.django_db

CITIES = ["上海市", "北京市", "重庆市"]
STATUSES = ["active", "lead", "prospect", "inactive"]
NAMES = ["张三", "李四", "王五", "赵六", "Alice", "Bob", "陈七", "重庆商行", "周八", "吴九"]


@pytest.fixture
def book(people):
    rng = random.Random(5)
    owners = [people["sales"], people["sales_peer"], people["sales_west"], people["manager"]]
    customers = []
    for i in range(36):
        tags = [t for t in ("VIP", "老客户") if rng.random() < 0.4]
        customers.append(
            make_customer(
                owner=rng.choice(owners),
                name=f"{rng.choice(NAMES)}{i % 5}",
                city=rng.choice(CITIES),
                status=rng.choice(STATUSES),
                tags=tags,
            )
        )
    # Deleted customers never show.
    from kehu.core.changelog import Actor
    from kehu.customers import services

    for customer in customers[:3]:
        services.customer_delete(actor=Actor(None), customer=customer)
    return people


def expected_ids(user, params) -> list[int]:
    """The rows computed in Python from the stored data, not through the list code."""
    rows = list(
        Customer.objects.filter(deleted_at__isnull=True).values(
            "id",
            "name",
            "name_sort",
            "city",
            "status",
            "owner_id",
            "team_id",
            "updated_at",
            "created_at",
        )
    )
    tags = {}
    for customer in Customer.objects.prefetch_related("tags"):
        tags[customer.pk] = {t.name for t in customer.tags.all()}
    if user.role == "sales":
        rows = [r for r in rows if r["owner_id"] == user.pk]
    elif user.role == "manager":
        rows = [r for r in rows if r["team_id"] == user.team_id or r["owner_id"] == user.pk]
    if "status" in params:
        rows = [r for r in rows if r["status"] == params["status"]]
    if "city" in params:
        rows = [r for r in rows if r["city"] == params["city"]]
    if "owner" in params:
        rows = [r for r in rows if r["owner_id"] == params["owner"]]
    if "tag" in params:
        rows = [r for r in rows if params["tag"] in tags[r["id"]]]
    if "search" in params:  # the book's names are the only searchable text here
        rows = [r for r in rows if params["search"] in r["name"]]
    ordering = params["ordering"]
    if ordering == "name":
        rows.sort(key=lambda r: (r["name_sort"], r["id"]))
    elif ordering == "-created_at":
        rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
    elif ordering == "city":
        rows.sort(key=lambda r: (r["updated_at"], r["id"]), reverse=True)
        rows.sort(key=lambda r: r["city"])  # stable: by city, then latest first
    else:
        rows.sort(key=lambda r: (r["updated_at"], r["id"]), reverse=True)
    return [r["id"] for r in rows]


def use_thresholds(monkeypatch, small_match):
    """Tiny thresholds make every filter count as common, and every page walk."""
    monkeypatch.setattr(filtersets, "SMALL_MATCH", small_match)
    monkeypatch.setattr(filtersets, "plan_threshold", lambda: small_match)
    monkeypatch.setattr(queries, "SMALL_MATCH", small_match)
    monkeypatch.setattr(queries, "DENSE_KEYS", small_match + 1)


FILTERS = [
    {},
    {"status": "lead"},
    {"city": "北京市"},
    {"tag": "VIP"},
    {"tag": "VIP", "city": "上海市"},
    {"status": "active", "owner": "sales"},
    {"search": "张"},
    {"search": "重庆", "status": "lead"},
]
ORDERINGS = ["name", "-updated_at", "-created_at", "city"]


@pytest.mark.parametrize("small_match", [2, 10_000], ids=["walk", "fetch-and-sort"])
@pytest.mark.parametrize("role", ["admin", "manager", "sales"])
def test_api_list_matches_independent_computation(book, role, small_match, monkeypatch):
    use_thresholds(monkeypatch, small_match)
    user = book[role]
    api = api_client_for(user)
    for filters in FILTERS:
        for ordering in ORDERINGS:
            params = {**filters, "ordering": ordering}
            if "owner" in params:
                params["owner"] = book[params["owner"]].pk
            response = api.get("/api/customers/", {**params, "page_size": 500})
            assert response.status_code == 200, response.content
            body = response.json()
            expected = expected_ids(user, params)
            assert [row["id"] for row in body["results"]] == expected, params
            assert body["count"] == len(expected)


@pytest.mark.parametrize("small_match", [2, 10_000], ids=["walk", "fetch-and-sort"])
def test_list_page_pages_follow_the_order(book, small_match, monkeypatch):
    use_thresholds(monkeypatch, small_match)
    client = Client()
    client.force_login(book["admin"])
    params = {"ordering": "name"}
    expected = expected_ids(book["admin"], params)
    assert len(expected) > 25
    shown = []
    for page in (1, 2):
        html = client.get("/customers/", {**params, "page": page}).content.decode()
        shown += [int(i) for i in re.findall(r'data-customer-id="(\d+)"', html)]
    assert shown == expected
