from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kehu.service"
    label = "service"
    verbose_name = _("Customer service")

    def ready(self):
        from kehu.customers import timeline

        from . import views

        timeline.register(
            timeline.Source("ticket", views.tickets_of, "opened_at", views.ticket_entry)
        )
        from . import survey_views

        timeline.register(
            timeline.Source(
                "survey", survey_views.responses_of, "submitted_at", survey_views.response_entry
            )
        )
        from kehu.customers import panels

        panels.register(
            panels.Panel(
                "tickets", "service/customer_tickets.html", views.customer_tickets_panel, 8
            )
        )
        panels.register(
            panels.Panel(
                "surveys", "service/customer_surveys.html", survey_views.customer_surveys_panel, 9
            )
        )
        from kehu.customers import demo_history

        from . import demo, survey_demo

        demo_history.register(demo.PART)
        demo_history.register(survey_demo.PART)
