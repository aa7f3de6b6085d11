from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "kehu.segments"
    label = "segments"
    verbose_name = _("Segments")

    def ready(self):
        import datetime

        from kehu.core import schedule

        from . import tasks

        schedule.register(
            schedule.Job(
                "segments",
                tasks.nightly_run,
                daily_at=datetime.time(3, 0),
                description="classify every customer: RFM, segments, lifecycle, predictions",
            )
        )
        schedule.register(
            schedule.Job(
                "segments-new-orders",
                tasks.rescore_new_orders,
                every=datetime.timedelta(minutes=5),
                description="re-score customers whose orders arrived since the last run",
            )
        )
        schedule.register(
            schedule.Job(
                "recommendations",
                tasks.rebuild_recommendations,
                daily_at=datetime.time(3, 30),
                description="recount which products are bought together",
            )
        )

        from kehu.customers import filtersets, panels

        from . import list_filters, views

        filtersets.register_filters(list_filters.score_filters)

        panels.register(
            panels.Panel(
                "segments", "segments/customer_segments.html", views.customer_segments_panel, 11
            )
        )
