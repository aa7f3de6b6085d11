import json
import time

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kehu.customers import demo


class Command(BaseCommand):
    help = "Add deterministic demo customers (with users, teams, tags, contacts and notes)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="how many (default 2000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when customers already exist"
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")

    def handle(self, *args, customers, seed, if_empty, as_json, **options):
        from kehu.customers.models import Customer

        if customers < 0 or customers > 50_000_000:
            raise CommandError("--customers must be between 0 and 50,000,000")
        if if_empty and Customer.all_objects.exists():
            result = {"customers": 0, "skipped": True}
            self.stdout.write(json.dumps(result) if as_json else "Customers exist; demo skipped.")
            return
        started = time.perf_counter()
        if as_json:
            totals = demo.load(customers, seed)
        else:
            with Progress(
                TextColumn("demo customers"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            ) as progress:
                task = progress.add_task("demo", total=customers)
                totals = demo.load(customers, seed, lambda n: progress.advance(task, n))
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
