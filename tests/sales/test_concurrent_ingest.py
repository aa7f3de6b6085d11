"""Two integrators posting overlapping batches at the same time both succeed:
the per-customer figures and points accounts are locked in one order."""

import threading

import pytest
from django.db import connection, connections

from kehu.loyalty import services as loyalty_services
from kehu.loyalty.models import LoyaltyAccount
from kehu.loyalty.queries import ledger_mismatches
from kehu.sales import services
from kehu.sales.models import PurchaseSummary

from ..conftest import make_customer, system_actor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite runs one writer at a time"
    ),
]

ROUNDS = 3


def batch(tag: str, customer_ids: list[int]) -> list[dict]:
    return [
        {
            "external_id": f"{tag}-{pk}",
            "customer": pk,
            "ordered_at": "2026-03-01T10:00:00+08:00",
            "currency": "CNY",
            "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "120.00"}],
        }
        for pk in customer_ids
    ]


def test_overlapping_batches_in_opposite_orders_do_not_deadlock():
    # A transactional test starts from an emptied database: no shipped rule.
    loyalty_services.earn_rule_save(
        actor=system_actor(),
        data={"name": "1 point per ¥10", "unit_amount": "10", "points_per_unit": 1},
    )
    services.product_create(
        actor=system_actor(), data={"sku": "TEA-1", "name": "龙井", "list_price": "120.00"}
    )
    ids = [make_customer(name=f"客户{n}").pk for n in range(150)]
    failures: list[BaseException] = []

    def ingest(tag: str, order_ids: list[int], start: threading.Barrier) -> None:
        try:
            start.wait()
            result = services.order_batch_ingest(actor=system_actor(), orders=batch(tag, order_ids))
            assert (result.created, result.rejected) == (len(order_ids), [])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connections.close_all()

    for n in range(ROUNDS):
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=ingest, args=(f"up{n}", ids, start)),
            threading.Thread(target=ingest, args=(f"down{n}", ids[::-1], start)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert failures == []
    counts = dict(PurchaseSummary.objects.values_list("customer_id", "order_count"))
    assert counts == dict.fromkeys(ids, 2 * ROUNDS)
    # 12 points per ¥120 order, and the ledger adds up.
    balances = dict(LoyaltyAccount.objects.values_list("customer_id", "balance"))
    assert balances == dict.fromkeys(ids, 12 * 2 * ROUNDS)
    assert ledger_mismatches() == []
