from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "kehu.engagement"
    label = "engagement"
    verbose_name = _("Engagement")

    def ready(self):
        import datetime

        from kehu.core import schedule

        from . import tasks

        schedule.register(
            schedule.Job(
                "reminders",
                tasks.send_reminders,
                every=datetime.timedelta(minutes=1),
                description="follow-up reminders whose time has come",
            )
        )
        schedule.register(
            schedule.Job(
                "care-reminders",
                tasks.create_care_tasks,
                daily_at=datetime.time(6, 0),
                description="birthday and holiday follow-ups, days ahead",
            )
        )
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
        from kehu.customers import timeline

        from . import views

        timeline.register(
            timeline.Source("event", views.events_of, "occurred_at", views.event_entry)
        )
        timeline.register(
            timeline.Source(
                "interaction", views.interactions_of, "occurred_at", views.interaction_entry
            )
        )
        timeline.register(timeline.Source("task", views.tasks_of, "due_at", views.task_entry))
        from kehu.customers import demo_history

        from . import demo

        demo_history.register(demo.PART)
