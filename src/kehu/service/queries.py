"""Reads of tickets; they follow their customers' visibility."""

from django.db.models import QuerySet

from kehu.customers import queries as customer_queries

from .models import Ticket, TicketState, TicketType


def tickets_visible_to(user) -> QuerySet:
    return Ticket.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("customer", "cause", "assignee")


def open_complaints(customer_ids=None) -> QuerySet:
    """Complaint tickets not yet resolved or closed, of ``customer_ids`` when
    given: what churn drivers and classification rules count."""
    tickets = Ticket.objects.filter(type=TicketType.COMPLAINT).exclude(
        state__in=[TicketState.RESOLVED, TicketState.CLOSED]
    )
    if customer_ids is not None:
        tickets = tickets.filter(customer_id__in=list(customer_ids))
    return tickets
