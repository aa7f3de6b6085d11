from django.db.models import Count

from .models import Order, PurchaseSummary

RECENT_ORDERS = 10


def customer_orders_panel(request, customer) -> dict:
    """The orders section of the customer 360 page (the page checked access)."""
    summary = PurchaseSummary.objects.filter(customer=customer).first()
    orders = list(
        Order.objects.filter(customer=customer)
        .annotate(line_count=Count("lines"))
        .order_by("-ordered_at", "-id")[:RECENT_ORDERS]
    )
    return {"summary": summary, "orders": orders, "more": len(orders) == RECENT_ORDERS}


def orders_of_customer(customer):
    return Order.objects.filter(customer=customer)


def order_entry(order):
    from kehu.customers.timeline import Entry

    return Entry(
        "order",
        order.ordered_at,
        order.pk,
        f"{order.external_id} · {order.amount} {order.currency}",
        {
            "external_id": order.external_id,
            "amount": str(order.amount),
            "refunded_amount": str(order.refunded_amount),
            "currency": order.currency,
            "status": order.status,
        },
    )
