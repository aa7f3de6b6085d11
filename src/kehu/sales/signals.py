"""What sales announces to other apps (loyalty earns and reverses points on them).

Apps on the same floor may not import sales, so these are named signals
(``core.signals``): a receiver connects with ``named("sales.orders_recorded")``.
They are sent **inside** the writing transaction, after the rows are stored: a
receiver's writes commit or roll back with the orders, so an order never exists
without the points it earned, nor points without their order, even if the process
dies right after. A receiver that raises fails the write; receivers must be
set-based and fast, since a batch carries up to 10,000 orders.

Amounts are Decimals in KEHU_BASE_CURRENCY, rounded to the cent, converted at the
rate the order was stored with.
"""

from kehu.core.signals import named

#: Sent once per stored batch (``order_batch_ingest``; ``order_create`` too) with
#: only the new orders: a duplicate is never announced twice.
#: ``actor``: the ``core.changelog.Actor``; ``orders``: a list of dicts
#: ``{"order_id", "external_id", "customer_id", "status" ("paid" | "cancelled"),
#: "ordered_at" (aware datetime), "amount_base"}``.
orders_recorded = named("sales.orders_recorded")

#: Sent by ``refund_create`` once the order carries the refund. ``actor``;
#: ``refund``: a dict ``{"refund_id", "order_id", "customer_id", "refunded_at",
#: "amount_base" (this refund), "refunded_total_base" (all refunds of the order so
#: far, this one included), "order_total_base" (the order's amount)}``.
refund_recorded = named("sales.refund_recorded")
