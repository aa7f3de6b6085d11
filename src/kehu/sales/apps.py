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
