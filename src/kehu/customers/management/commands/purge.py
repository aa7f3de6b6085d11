import json

from django.conf import settings
from django.core.management.base import BaseCommand

from kehu.core.changelog import Actor
from kehu.customers import services


class Command(BaseCommand):
    help = (
        "Purge customers that have been in the recycle bin longer than the retention "
        "(KEHU_RECYCLE_RETENTION_DAYS, default 30). Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="override the retention")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, days, as_json, **options):
        days = settings.KEHU_RECYCLE_RETENTION_DAYS if days is None else max(0, days)
        purged = services.customers_purge(actor=Actor.system(), older_than_days=days)
        if as_json:
            self.stdout.write(json.dumps({"purged": purged, "retention_days": days}))
        else:
            self.stdout.write(f"Purged {purged} customers deleted more than {days} days ago.")
