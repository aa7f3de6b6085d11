"""Receivers of sales' signals: thin, the work is in services."""

from . import services


def on_orders_recorded(sender, actor, orders, **kwargs):
    services.earn_for_orders(actor=actor, orders=orders)


def on_refund_recorded(sender, actor, refund, **kwargs):
    services.reverse_for_refund(actor=actor, refund=refund)
