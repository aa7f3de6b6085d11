"""The public feedback form: no login, finds or creates the customer, refuses bots,
floods and oversized or malformed input."""

import pytest
from django.test import Client

from kehu.customers.models import Customer
from kehu.service.models import Ticket

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def send(client=None, **fields):
    client = client or Client()
    data = {
        "name": "访客",
        "type": "complaint",
        "subject": "物流太慢",
        "description": "等了一周",
        **fields,
    }
    return client.post("/feedback/", data, HTTP_ACCEPT_LANGUAGE="en")


def test_form_opens_without_login():
    response = Client().get("/feedback/")
    assert response.status_code == 200 and 'name="website"' in response.content.decode()


def test_links_to_the_customer_with_that_phone_or_email(people):
    known = make_customer(
        owner=people["sales"], name="老客户", phones=["13800138000"], emails=["lao@example.com"]
    )
    other = make_customer(owner=people["sales"], name="别人", phones=["13800138001"])
    assert send(phone="138 0013 8000").status_code == 200
    assert send(email="LAO@example.com").status_code == 200
    tickets = list(Ticket.objects.order_by("id"))
    assert [t.customer_id for t in tickets] == [known.pk, known.pk]
    assert tickets[0].channel == "web_form" and tickets[0].state == "new"
    assert not Ticket.objects.filter(customer=other).exists()


def test_creates_a_lead_for_someone_new():
    response = send(name="新访客", phone="+86 139 1234 5678")
    assert response.status_code == 200 and "Your reference is" in response.content.decode()
    customer = Customer.objects.get(name="新访客")
    assert (
        customer.phones == ["+8613912345678"]
        and customer.status == "lead"
        and customer.source == "website"
    )
    assert Ticket.objects.get().customer == customer


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"phone": "", "email": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email", "phone": ""}, "email"),
        ({"type": "rant", "phone": "13800138000"}, "type"),
        ({"subject": "", "phone": "13800138000"}, "subject"),
        ({"subject": "x" * 201, "phone": "13800138000"}, "subject"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(fields, field):
    response = send(**fields)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert 'has-error" data-field="' + field in response.content.decode()
    assert Ticket.objects.count() == 0 and Customer.all_objects.count() == 0


def test_bots_filling_the_trap_are_thanked_and_ignored():
    response = send(phone="13800138000", website="http://spam.example")
    assert response.status_code == 200 and Ticket.objects.count() == 0


def test_floods_are_limited_per_address():
    client = Client(REMOTE_ADDR="10.0.0.9")
    for n in range(5):
        assert send(client, phone=f"1380013800{n}").status_code == 200
    blocked = send(client, phone="13800138009")
    assert blocked.status_code == 429 and Ticket.objects.count() == 5
    assert send(Client(REMOTE_ADDR="10.0.0.10"), phone="13800138009").status_code == 200


def test_oversized_forms_are_refused():
    response = send(phone="13800138000", description="长" * 40_000)
    assert response.status_code in (400, 413) and Ticket.objects.count() == 0
