import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from kehu.engagement import care_services


class Command(BaseCommand):
    help = (
        "Create care follow-up tasks for customers' birthdays and holidays, to each "
        "customer's owner, some days ahead (KEHU_CARE_BIRTHDAY_DAYS_AHEAD; a holiday's "
        "own days ahead). Idempotent: one task per customer, occasion and year. Run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", default=None, help="run as of this day (YYYY-MM-DD)")
        parser.add_argument(
            "--days-ahead", type=int, default=None, help="look this many days ahead for all"
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, date, days_ahead, as_json, **options):
        try:
            day = datetime.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError("--date: use YYYY-MM-DD") from None
        if days_ahead is not None and not 0 <= days_ahead <= 60:
            raise CommandError("--days-ahead: use 0 to 60")
        result = care_services.create_care_tasks(as_of=day, days_ahead=days_ahead)
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(f"Created {result.created} care tasks.")
        for item in result.occasions:
            self.stdout.write(
                f"  {item['occasion']} {item['date']}: {item['created']} created,"
                f" {item['without_owner']} customers without an active owner"
            )
