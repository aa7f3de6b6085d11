import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kehu.accounts.models import Role, User


class Command(BaseCommand):
    help = "Create an administrator, or reset an existing one's password. Never prompts."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the result as JSON"
        )

    def handle(self, *args, username, password, email, as_json, **options):
        username = username.strip()
        if not username:
            raise CommandError("--username must not be empty")
        if len(password) < 8:
            raise CommandError("--password must have at least 8 characters")
        user, created = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.role = Role.ADMIN
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        if email:
            user.email = email
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        user.save()
        result = {"username": user.username, "id": user.pk, "created": created}
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            verb = "Created" if created else "Updated"
            self.stdout.write(f"{verb} administrator {user.username}")
