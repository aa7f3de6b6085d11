from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "kehu.engagement"
    label = "engagement"
    verbose_name = _("Engagement")

    def ready(self):
        from kehu.customers import panels

        from .views import customer_behaviour_panel, customer_interactions_panel

        panels.register(
            panels.Panel(
                "interactions",
                "engagement/customer_interactions.html",
                customer_interactions_panel,
                5,
            )
        )
        panels.register(
            panels.Panel(
                "behaviour", "engagement/customer_behaviour.html", customer_behaviour_panel, 20
            )
        )
