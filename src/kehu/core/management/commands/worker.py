"""``kehu worker``: run the scheduled jobs (follow-up reminders, care reminders,
points expiry …) as they fall due, until stopped."""

import json
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kehu.core import schedule


class Command(BaseCommand):
    help = "Run scheduled jobs as they fall due (reminders each minute, daily jobs once a day)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="run the jobs that are due, then stop (for cron)"
        )
        parser.add_argument("--job", help="run this job now, due or not, then stop")
        parser.add_argument("--list", action="store_true", help="list the jobs and stop")
        parser.add_argument(
            "--interval", type=float, default=30, help="seconds between looks (default 30)"
        )
        parser.add_argument("--json", action="store_true", help="print results as JSON")

    def handle(self, *args, **options):
        if options["list"]:
            for job in schedule.jobs():
                when = f"every {job.every}" if job.every else f"daily from {job.daily_at:%H:%M}"
                self.stdout.write(f"{job.name:24} {when:24} {job.description}")
            return
        if options["job"]:
            found = {job.name: job for job in schedule.jobs()}.get(options["job"])
            if found is None:
                names = ", ".join(job.name for job in schedule.jobs())
                raise CommandError(f"no job named {options['job']!r}; jobs: {names}")
            self._report(found, schedule.run(found), options["json"])
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while True:
            for job in schedule.due_jobs():
                self._report(job, schedule.run(job), options["json"])
            if options["once"] or stopping:
                return
            try:
                time.sleep(options["interval"])
            except KeyboardInterrupt:
                return
            if stopping:
                return

    def _report(self, job, result: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"job": job.name, **result}, ensure_ascii=False))
        else:
            self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {job.name}: {result}")
