"""Shared fixtures: a user per role in two teams, API clients, customers made through services."""

import itertools

import pytest
from rest_framework.test import APIClient

from kehu.accounts.models import Role, Team, User
from kehu.core.changelog import Actor
from kehu.core.models import Channel
from kehu.customers import services

PASSWORD = "Correct-Horse-9"
_phone_counter = itertools.count(10_000_000)


def unique_mobile() -> str:
    return f"139{next(_phone_counter):08d}"


@pytest.fixture
def teams(db):
    return {"east": Team.objects.create(name="East"), "west": Team.objects.create(name="West")}


def make_user(username, role, team=None, **extra) -> User:
    user = User(username=username, role=role, team=team, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def people(teams):
    """One user per role; sales, manager and read-only users in East, another rep in West."""
    east, west = teams["east"], teams["west"]
    return {
        "admin": make_user("admin", Role.ADMIN),
        "manager": make_user("manager", Role.MANAGER, east),
        "sales": make_user("sales", Role.SALES, east),
        "sales_peer": make_user("sales_peer", Role.SALES, east),
        "sales_west": make_user("sales_west", Role.SALES, west),
        "manager_west": make_user("manager_west", Role.MANAGER, west),
        "support": make_user("support", Role.SUPPORT, east),
        "analyst": make_user("analyst", Role.ANALYST),
        "readonly": make_user("readonly", Role.READONLY, east),
    }


def system_actor() -> Actor:
    return Actor(user=None, channel=Channel.SYSTEM)


def make_customer(owner=None, **data):
    data.setdefault("name", "张三丰")
    data.setdefault("phones", [unique_mobile()])
    if owner is not None:
        data.setdefault("owner", owner.pk)
    return services.customer_create(actor=system_actor(), data=data)


@pytest.fixture
def customer_factory(db):
    return make_customer


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def api(people):
    return {role: api_client_for(user) for role, user in people.items()}


@pytest.fixture
def admin_api(people):
    return api_client_for(people["admin"])


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, request):
    """Argon2 is deliberately slow; tests that are not about hashing use MD5."""
    if "argon2" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue(admin_api):
    """Two products, TEA-1 and CUP-2, made through the API."""
    from kehu.sales.models import Product

    for sku, name, price in [("TEA-1", "龙井 250g", "88.00"), ("CUP-2", "茶杯", "19.90")]:
        response = admin_api.post(
            "/api/products/", {"sku": sku, "name": name, "list_price": price}, format="json"
        )
        assert response.status_code == 201, response.content
    return {p.sku: p for p in Product.objects.all()}


def order(external_id, customer, lines, **extra):
    """An order as POST /api/orders/batch/ takes it."""
    return {
        "external_id": external_id,
        "customer": customer.pk,
        "ordered_at": "2026-03-01T10:00:00+08:00",
        "currency": "CNY",
        "lines": lines,
        **extra,
    }
