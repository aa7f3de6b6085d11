import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kehu.customers import demo


class Command(BaseCommand):
    @property
    def help(self):
        # Translated when asked (argparse needs text, not a lazy string).
        return _(
            "Add deterministic demo customers (with users, teams, tags, contacts and notes) "
            "and their history: orders, behaviour events, interactions, follow-ups and tickets."
        )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="how many (default 2000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when customers already exist"
        )
        parser.add_argument(
            "--no-history",
            action="store_false",
            dest="with_history",
            help=_("customers only, without orders, events, interactions or tickets"),
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")

    def handle(self, *args, customers, seed, if_empty, with_history, as_json, **options):
        from kehu.customers.models import Customer

        if customers < 0 or customers > 50_000_000:
            raise CommandError("--customers must be between 0 and 50,000,000")
        if if_empty and Customer.all_objects.exists():
            result = {"customers": 0, "skipped": True}
            self.stdout.write(json.dumps(result) if as_json else "Customers exist; demo skipped.")
            return
        started = time.perf_counter()
        if as_json:
            totals = demo.load(customers, seed, with_history=with_history)
        else:
            with Progress(
                TextColumn("demo customers"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            ) as progress:
                task = progress.add_task("demo", total=customers)
                totals = demo.load(
                    customers,
                    seed,
                    lambda n: progress.advance(task, n),
                    with_history=with_history,
                )
        totals["seconds"] = round(time.perf_counter() - started, 2)
        totals["password"] = demo.DEMO_PASSWORD
        if as_json:
            self.stdout.write(json.dumps(totals))
        else:
            self.stdout.write(
                f"Added {totals['customers']:,} customers, {totals['contacts']:,} contacts, "
                f"{totals['notes']:,} notes in {totals['seconds']} s. "
                f"Demo users (admin, manager1, sales1 … sales20, support1, analyst1, viewer1) "
                f"have the password {demo.DEMO_PASSWORD}."
            )
            if "orders" in totals:
                self.stdout.write(
                    _(
                        "History: %(orders)s orders with %(lines)s lines, %(events)s events, "
                        "%(interactions)s interactions, %(tasks)s follow-ups, %(tickets)s tickets."
                    )
                    % {
                        "orders": f"{totals['orders']:,}",
                        "lines": f"{totals['order_lines']:,}",
                        "events": f"{totals.get('events', 0):,}",
                        "interactions": f"{totals.get('interactions', 0):,}",
                        "tasks": f"{totals.get('tasks', 0):,}",
                        "tickets": f"{totals.get('tickets', 0):,}",
                    }
                )
            if totals.get("survey_responses") or totals.get("points_entries"):
                self.stdout.write(
                    _("Also %(answers)s survey answers and %(entries)s loyalty points entries.")
                    % {
                        "answers": f"{totals.get('survey_responses', 0):,}",
                        "entries": f"{totals.get('points_entries', 0):,}",
                    }
                )
