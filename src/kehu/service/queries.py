"""Reads of tickets; they follow their customers' visibility."""

from django.db.models import QuerySet

from kehu.customers import queries as customer_queries

from .models import Ticket


def tickets_visible_to(user) -> QuerySet:
    return Ticket.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("customer", "cause", "assignee")
