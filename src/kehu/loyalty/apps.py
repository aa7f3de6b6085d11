from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "kehu.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        import datetime

        from kehu.core import schedule

        from . import tasks

        schedule.register(
            schedule.Job(
                "points-expiry",
                tasks.expire_points,
                daily_at=datetime.time(2, 0),
                description="expire points past their time",
            )
        )
        # Points follow orders and refunds. Loyalty may not import sales (same
        # floor), so it hears of them through sales' named signals, sent inside
        # the ingesting transaction (see sales/signals.py, docs/decisions.md).
        from kehu.core.signals import named

        from . import receivers

        named("sales.orders_recorded").connect(
            receivers.on_orders_recorded, dispatch_uid="loyalty.earn"
        )
        named("sales.refund_recorded").connect(
            receivers.on_refund_recorded, dispatch_uid="loyalty.reverse"
        )

        from kehu.customers import panels, timeline

        from . import views

        panels.register(
            panels.Panel(
                "loyalty", "loyalty/customer_loyalty.html", views.customer_loyalty_panel, 12
            )
        )
        timeline.register(
            timeline.Source("points", views.entries_of, "occurred_at", views.entry_entry)
        )
        # Demo customers' points, derived from their orders once they are loaded.
        from kehu.customers import demo_history

        from . import demo

        demo_history.register(demo.PART)
