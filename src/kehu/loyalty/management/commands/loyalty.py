import json

from django.core.management.base import BaseCommand, CommandError

from kehu.core.normalize import parse_moment
from kehu.loyalty import queries, services


class Command(BaseCommand):
    help = (
        "Loyalty points. `expire`: expire what is left of points past their expiry "
        "(KEHU_LOYALTY_EXPIRY_MONTHS); idempotent, run it daily. `check`: list accounts "
        "whose balance is not the sum of their entries (exit status 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["expire", "check"])
        parser.add_argument(
            "--as-of", default=None, help="expire as of this time (ISO 8601; default now)"
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, as_of, as_json, **options):
        if action == "check":
            wrong = queries.ledger_mismatches()
            if as_json:
                self.stdout.write(json.dumps({"mismatches": wrong}))
            elif wrong:
                for customer_id, cached, total in wrong:
                    self.stdout.write(f"customer {customer_id}: balance {cached}, entries {total}")
            else:
                self.stdout.write("Every balance is the sum of its entries.")
            if wrong:
                raise SystemExit(1)
            return
        try:
            moment = parse_moment(as_of) if as_of else None
        except ValueError as error:
            raise CommandError(f"--as-of: {error}") from None
        expired = services.expire_points(as_of=moment)
        if as_json:
            self.stdout.write(json.dumps({"expired_credits": expired}))
        else:
            self.stdout.write(f"Expired the rest of {expired} credits.")
