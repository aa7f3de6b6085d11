from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from kehu.customers import panels

        from .views import customer_orders_panel

        panels.register(
            panels.Panel("orders", "sales/customer_orders.html", customer_orders_panel, 10)
        )
        from kehu.customers import timeline

        from .views import order_entry, orders_of_customer

        timeline.register(timeline.Source("order", orders_of_customer, "ordered_at", order_entry))
        from kehu.customers import demo_history

        from . import demo

        demo_history.register(demo.PART)
