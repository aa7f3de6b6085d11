import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run Kehu's web server: gunicorn with static files served by whitenoise."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--dev", action="store_true", help="Django's development server with autoreload"
        )

    def handle(self, *args, host, port, workers, dev, **options):
        if dev:
            call_command("runserver", f"{host}:{port}")
            return
        self.stdout.write(f"Kehu is serving on http://{host}:{port}/")
        sys.stdout.flush()
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "kehu.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
        ]
        os.execv(sys.executable, gunicorn)
