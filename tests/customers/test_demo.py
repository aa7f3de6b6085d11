"""Demo data: deterministic, valid by the same rules as user input, findable by search."""

import random

import pytest
from django.core.management import call_command

from kehu.core.normalize import (
    normalize_email,
    normalize_phone,
    normalize_resident_id,
    normalize_uscc,
    phone_national_digits,
)
from kehu.core.pinyin import pinyin_initials, strip_legal_suffix
from kehu.customers import demo
from kehu.customers.models import Contact, Customer, CustomerTag
from kehu.customers.queries import search_customers

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot():
    return list(
        Customer.objects.order_by("id").values_list(
            "name", "phones", "emails", "city", "status", "credit_code", "custom_fields"
        )
    )


def test_same_seed_same_data_and_counts():
    totals = demo.load(400, seed=5)
    assert totals["customers"] == 400 == Customer.objects.count()
    assert totals["contacts"] == Contact.objects.count() > 0
    assert totals["tags"] == CustomerTag.objects.count()
    first = snapshot()
    Customer.all_objects.all().delete()
    demo.load(400, seed=5)
    assert snapshot() == first
    Customer.all_objects.all().delete()
    demo.load(400, seed=6)
    assert snapshot() != first


def test_generated_values_pass_the_validators():
    demo.load(500, seed=9)
    customers = list(Customer.objects.all())
    kinds = {c.kind for c in customers}
    assert kinds == {"person", "organization"}
    for customer in customers:
        for phone in customer.phones:
            assert normalize_phone(phone) == phone
        for email in customer.emails:
            assert normalize_email(email) == email
        if customer.credit_code:
            assert normalize_uscc(customer.credit_code) == customer.credit_code
        if customer.id_number:
            assert normalize_resident_id(customer.id_number) == customer.id_number
        assert customer.owner is None or customer.team_id == customer.owner.team_id


def test_demo_customers_are_found_by_search():
    demo.load(300, seed=11)
    rng = random.Random(1)
    sample = rng.sample(list(Customer.objects.order_by("pk")), 25)
    for customer in sample:
        queries = [customer.name, phone_national_digits(customer.phones[-1])[-4:]]
        initials = pinyin_initials(strip_legal_suffix(customer.name))
        if initials:
            queries.append(initials)
        for query in queries:
            hits = search_customers(Customer.objects.all(), query)
            assert hits.filter(pk=customer.pk).exists(), (customer.name, query)


def test_demo_command_json_and_if_empty(capsys):
    call_command("demo", "--customers", "50", "--json")
    assert '"customers": 50' in capsys.readouterr().out
    call_command("demo", "--customers", "50", "--if-empty", "--json")
    assert '"skipped": true' in capsys.readouterr().out
    assert Customer.objects.count() == 50
