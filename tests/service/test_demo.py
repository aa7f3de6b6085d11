"""Demo tickets: SLA due times by severity, the workflow's traces (assignee, reply,
resolved and closed times), and complaints shortly before a lost customer's last order."""

import datetime

import pytest

from kehu.customers import demo
from kehu.customers.demo_history import EPOCH
from kehu.customers.models import Customer
from kehu.sales.models import Order
from kehu.service.models import Ticket, TicketState, sla_hours

pytestmark = pytest.mark.django_db(transaction=True)


def test_tickets_follow_the_sla_and_the_workflow():
    demo.load(300, seed=41)
    created = dict(Customer.objects.values_list("pk", "created_at"))
    tickets = list(Ticket.objects.select_related("cause"))
    assert 0.03 * len(created) < len(tickets) < 0.15 * len(created)
    types = {t.type for t in tickets}
    assert {"complaint", "inquiry"} <= types and len(types) >= 3
    assert len({t.severity for t in tickets}) >= 3
    for ticket in tickets:
        assert ticket.due_at == ticket.opened_at + datetime.timedelta(
            hours=sla_hours(ticket.severity)
        )
        assert created[ticket.customer_id] < ticket.opened_at < EPOCH
        done = ticket.state in (TicketState.RESOLVED, TicketState.CLOSED)
        assert bool(ticket.reply) == done == (ticket.resolved_at is not None)
        assert (ticket.closed_at is not None) == (ticket.state == TicketState.CLOSED)
        if done:
            assert ticket.opened_at < ticket.resolved_at < EPOCH
        if ticket.closed_at:
            assert ticket.resolved_at < ticket.closed_at < EPOCH
        assert (ticket.assignee_id is None) == (ticket.state == TicketState.NEW)
        if ticket.type == "complaint":
            assert ticket.cause is not None
        if ticket.type in ("suggestion", "praise"):
            assert ticket.cause is None


def test_some_lost_customers_complained_shortly_before_their_last_order():
    demo.load(600, seed=42)
    churned_after_complaint = 0
    lost = Customer.objects.filter(status__in=["lost", "inactive"])
    for customer in lost:
        last = Order.objects.filter(customer=customer).order_by("-ordered_at").first()
        if last is None:
            continue
        churned_after_complaint += Ticket.objects.filter(
            customer=customer,
            type="complaint",
            cause__key__in=["product_quality", "service", "delivery", "price"],
            opened_at__lt=last.ordered_at,
            opened_at__gte=last.ordered_at - datetime.timedelta(days=21),
        ).exists()
    assert churned_after_complaint >= 3
