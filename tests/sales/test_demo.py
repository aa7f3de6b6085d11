"""Demo orders: consistent with their lines, refunds and customers, and summarised
exactly as the sales services summarise orders."""

import datetime
import decimal

import pandas as pd
import pytest
from django.conf import settings

from kehu.customers import demo
from kehu.customers.demo_history import EPOCH
from kehu.customers.models import Customer
from kehu.sales import services
from kehu.sales.demo import SKU_PREFIX
from kehu.sales.models import Order, OrderLine, OrderStatus, Product, PurchaseSummary, Refund

pytestmark = pytest.mark.django_db(transaction=True)
CENT = decimal.Decimal("0.01")


def frame(queryset, *fields) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(queryset.values_list(*fields)), columns=list(fields))


def independent_summaries() -> dict[int, tuple]:
    """(order count, total spent, first, last) per customer with orders, from the rows."""
    orders = frame(
        Order.objects.all(),
        "customer_id",
        "status",
        "amount",
        "refunded_amount",
        "base_rate",
        "ordered_at",
    )
    counted = orders[orders.status.isin([OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED])]
    counted = counted.assign(
        net=[
            (a - r) * b
            for a, r, b in zip(
                counted.amount, counted.refunded_amount, counted.base_rate, strict=True
            )
        ]
    )
    figures = counted.groupby("customer_id").agg(
        n=("net", "size"),
        total=("net", "sum"),
        first=("ordered_at", "min"),
        last=("ordered_at", "max"),
    )
    out = {}
    for customer_id in orders.customer_id.unique():
        if customer_id in figures.index:
            row = figures.loc[customer_id]
            out[int(customer_id)] = (
                int(row.n),
                decimal.Decimal(row.total).quantize(CENT),
                row["first"].to_pydatetime(),
                row["last"].to_pydatetime(),
            )
        else:
            out[int(customer_id)] = (0, decimal.Decimal("0.00"), None, None)
    return out


def stored_summaries() -> dict[int, tuple]:
    return {
        s.customer_id: (s.order_count, s.total_spent, s.first_purchase_at, s.last_purchase_at)
        for s in PurchaseSummary.objects.all()
    }


def test_summaries_equal_the_rows_and_what_the_service_computes():
    demo.load(300, seed=21)
    stored = stored_summaries()
    assert stored == independent_summaries()
    services.refresh_purchase_figures(stored)
    assert stored_summaries() == stored


def test_orders_add_up_and_refer_to_existing_rows():
    demo.load(300, seed=22)
    customers = dict(Customer.objects.values_list("pk", "created_at"))
    products = set(Product.objects.values_list("pk", flat=True))
    lines = frame(
        OrderLine.objects.all(),
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount",
        "amount",
    )
    assert set(lines.product_id) <= products
    assert all(lines.amount == lines.quantity * lines.unit_price - lines.discount)
    assert not lines.duplicated(["order_id", "product_id"]).any()
    line_totals = lines.groupby("order_id").amount.sum()
    refunds = frame(Refund.objects.all(), "order_id", "amount", "refunded_at")
    refunded = refunds.groupby("order_id").amount.sum()
    for order in Order.objects.all():
        assert order.customer_id in customers
        assert customers[order.customer_id] <= order.ordered_at < EPOCH
        assert order.amount == line_totals[order.pk]
        assert order.refunded_amount == refunded.get(order.pk, 0)
        assert order.external_id == f"DEMO-O-{order.customer_id:08d}-{order.external_id[-3:]}"
        expected = {
            0: {OrderStatus.PAID, OrderStatus.CANCELLED},
            1: {OrderStatus.PARTIALLY_REFUNDED},
            2: {OrderStatus.REFUNDED},
        }[(order.refunded_amount > 0) + (order.refunded_amount == order.amount)]
        assert order.status in expected, order.external_id
        assert order.version == 1 + order.refunds.count()
    for refund in Refund.objects.select_related("order"):
        assert refund.order.ordered_at < refund.refunded_at < EPOCH
        assert refund.external_id.startswith(f"DEMO-R-{refund.order.external_id[7:]}-")


def test_rhythms_leads_never_buy_loyal_customers_buy_often():
    demo.load(300, seed=23)
    counts = dict(PurchaseSummary.objects.values_list("customer_id", "order_count"))
    for customer in Customer.objects.all():
        if customer.status in ("lead", "prospect"):
            assert customer.pk not in counts
        elif customer.status in ("inactive", "lost") and customer.pk in counts:
            last = customer.purchase_summary.last_purchase_at
            assert last is None or last < EPOCH - datetime.timedelta(days=90)
    buyers = sorted(counts.values())
    assert sum(1 for n in buyers if n <= 1) > len(buyers) * 0.15
    assert buyers[-1] >= 15
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values)
    assert Order.objects.filter(status=OrderStatus.PAID).count() > 0.85 * Order.objects.count()


def test_catalogue_is_loaded_once_and_keeps_clear_of_bench_skus():
    demo.load(30, seed=1)
    demo.load(30, seed=2)
    skus = list(Product.objects.values_list("sku", flat=True))
    assert len(skus) == 200 == len(set(skus))
    assert all(s.startswith(SKU_PREFIX) and not s.startswith("BENCH-") for s in skus)
    assert len(set(Product.objects.values_list("category", flat=True))) == 10


def test_foreign_currency_orders_are_summarised_in_the_base_currency(monkeypatch):
    monkeypatch.setattr(settings, "KEHU_EXCHANGE_RATES", {"USD": "7.1234"})
    monkeypatch.setattr("kehu.sales.demo.FOREIGN_SHARE", 0.3)
    demo.load(200, seed=24)
    assert set(Order.objects.values_list("currency", flat=True)) == {"CNY", "USD"}
    assert set(Order.objects.filter(currency="USD").values_list("base_rate", flat=True)) == {
        decimal.Decimal("7.1234")
    }
    assert stored_summaries() == independent_summaries()
