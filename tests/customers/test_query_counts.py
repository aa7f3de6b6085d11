"""No N+1: list, search, detail and API list issue the same number of queries for 3 or 30 rows."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ..conftest import api_client_for, make_customer

pytestmark = pytest.mark.django_db


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = func()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def populate(people, n):
    for i in range(n):
        customer = make_customer(
            owner=people["sales"],
            name=f"客户{i}",
            tags=["VIP", f"t{i % 4}"],
            phones=[f"1380000{i:04d}"],
        )
        from kehu.core.changelog import Actor
        from kehu.customers import services

        services.contact_create(actor=Actor(None), customer=customer, data={"name": f"联系{i}"})
    return customer


@pytest.mark.parametrize(
    "path, params",
    [
        ("/customers/", {}),
        ("/customers/", {"search": "kh"}),
        ("/customers/", {"tag": "VIP", "ordering": "name"}),
        ("/api/customers/", {}),
        ("/api/customers/", {"search": "0000"}),
    ],
)
def test_list_queries_do_not_grow_with_rows(people, path, params):
    client = Client()
    client.force_login(people["sales"])
    api = api_client_for(people["sales"])
    get = (
        (lambda: api.get(path, params))
        if path.startswith("/api/")
        else (lambda: client.get(path, params))
    )
    populate(people, 3)
    few = count_queries(get)
    populate(people, 27)
    many = count_queries(get)
    assert few == many, (few, many)
    assert many <= 12


def test_detail_queries_do_not_grow_with_contacts_notes_history(people):
    client = Client()
    client.force_login(people["sales"])
    customer = populate(people, 1)
    few = count_queries(lambda: client.get(f"/customers/{customer.pk}/"))
    from kehu.core.changelog import Actor
    from kehu.customers import services

    for i in range(15):
        services.contact_create(actor=Actor(None), customer=customer, data={"name": f"c{i}"})
        services.note_create(actor=Actor(people["sales"]), customer=customer, body=f"n{i}")
    many = count_queries(lambda: client.get(f"/customers/{customer.pk}/"))
    assert few == many, (few, many)
