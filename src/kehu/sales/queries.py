"""Reads of products and orders; orders follow their customers' visibility."""

from django.db.models import QuerySet

from kehu.customers import queries as customer_queries

from .models import Order, Product


def products() -> QuerySet:
    return Product.objects.all()


def orders_visible_to(user) -> QuerySet:
    return Order.objects.filter(customer__in=customer_queries.customers_visible_to(user))
