"""Demo data: deterministic, valid by the same rules as user input, findable by search;
history from every registered app, consistent and deterministic too."""

import json
import random

import pytest
from django.core.management import call_command

from kehu.core.models import ChangeLogEntry
from kehu.core.normalize import (
    normalize_email,
    normalize_phone,
    normalize_resident_id,
    normalize_uscc,
    phone_national_digits,
)
from kehu.core.pinyin import pinyin_initials, strip_legal_suffix
from kehu.customers import demo, demo_history
from kehu.customers.models import Contact, Customer, CustomerTag
from kehu.customers.queries import search_customers

pytestmark = pytest.mark.django_db(transaction=True)


def clear_demo():
    """Remove demo customers and their history (orders and tickets protect customers)."""
    for part in reversed(demo_history.parts()):
        for table in reversed(part.tables):
            table.model._base_manager.all().delete()
    Customer.all_objects.all().delete()


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
    clear_demo()
    demo.load(400, seed=5)
    assert snapshot() == first
    clear_demo()
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


# ---- history ---------------------------------------------------------------------------


def history_snapshot() -> dict:
    """Every history table's rows, ids included (a load after ``clear_demo`` starts
    from the same ids)."""
    return {
        table.name: list(table.model._base_manager.order_by("pk").values_list())
        for part in demo_history.parts()
        for table in part.tables
    }


def test_history_apps_register_their_parts():
    keys = [part.key for part in demo_history.parts()]
    assert {"sales", "engagement", "service"} <= set(keys)
    names = [table.name for part in demo_history.parts() for table in part.tables]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("part", demo_history.parts(), ids=lambda p: p.key)
def test_history_tables_fill_every_column(part):
    """A new column without a database default would break the bulk load: list it."""
    numbered = {t.name for t in part.tables if t.numbered}
    for table in part.tables:
        columns = {f.column for f in table.model._meta.concrete_fields}
        written = set(table.columns) | ({table.model._meta.pk.column} if table.numbered else set())
        assert written == columns, table.name
        for column, target in table.refs:
            assert column in table.columns and target in numbered


def test_history_is_deterministic_and_has_no_change_log():
    totals = demo.load(300, seed=3)
    first = history_snapshot()
    for name, rows in first.items():
        assert totals[name] == len(rows), name
    assert totals["orders"] > 300 and totals["order_lines"] > 2 * totals["orders"]
    assert totals["events"] > 300 and totals["interactions"] > 300 and totals["tickets"] > 0
    assert not ChangeLogEntry.objects.exists()
    clear_demo()
    demo.load(300, seed=3)
    assert history_snapshot() == first
    clear_demo()
    demo.load(300, seed=4)
    assert history_snapshot()["orders"] != first["orders"]


def test_history_of_worker_processes_is_the_same_for_any_number_of_them(monkeypatch):
    """Small chunks, so that worker processes share the work and hand on the ids."""
    monkeypatch.setattr(demo, "CHUNK", 60)
    monkeypatch.setattr(demo.os, "cpu_count", lambda: 2)
    demo.load(300, seed=8)
    first = history_snapshot()
    for name, table in _numbered().items():
        pks = list(table.model._base_manager.order_by("pk").values_list("pk", flat=True))
        assert pks == list(range(1, len(pks) + 1)), name  # no gaps between chunks
    clear_demo()
    monkeypatch.setattr(demo.os, "cpu_count", lambda: 4)
    demo.load(300, seed=8)
    assert history_snapshot() == first


def _numbered() -> dict:
    return {t.name: t for p in demo_history.parts() for t in p.tables if t.numbered}


def test_a_second_load_adds_history_for_new_customers_only():
    first = demo.load(120, seed=2)
    second = demo.load(80, seed=2)
    for name, table in _numbered().items():
        assert table.model._base_manager.count() == first[name] + second[name], name
    customers = set(Customer.objects.values_list("pk", flat=True))
    from kehu.sales.models import Order

    assert set(Order.objects.values_list("customer_id", flat=True)) <= customers


def test_without_history_nothing_but_customers():
    totals = demo.load(200, seed=1, with_history=False)
    assert totals["customers"] == 200
    assert all(not t.model._base_manager.exists() for p in demo_history.parts() for t in p.tables)


def test_demo_command_counts_history_and_skips_it_on_request(capsys):
    call_command("demo", "--customers", "60", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["customers"] == 60 and out["orders"] > 0 and out["tickets"] >= 0
    call_command("demo", "--customers", "40", "--no-history", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["customers"] == 40 and "orders" not in out


def test_demo_command_help_is_text():
    from kehu.customers.management.commands.demo import Command

    assert "--no-history" in Command().create_parser("kehu", "demo").format_help()


def test_a_large_load_rebuilds_every_index_and_key(monkeypatch):
    """Large loads drop indexes, foreign and unique keys, and build them at the end."""
    from django.db import connection

    def schema() -> dict:
        with connection.cursor() as cursor:
            return {
                model._meta.db_table: connection.introspection.get_constraints(
                    cursor, model._meta.db_table
                )
                for model in demo.BULK_MODELS
                + [t.model for p in demo_history.parts() for t in p.tables]
            }

    before = schema()
    monkeypatch.setattr(demo, "BULK_THRESHOLD", 0)
    totals = demo.load(150, seed=12)
    assert schema() == before
    assert totals["orders"] > 0
