import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console

from kehu.core.changelog import Actor
from kehu.core.models import Channel
from kehu.segments import runs
from kehu.segments.models import RunStatus, RunTrigger, SegmentRun


class Command(BaseCommand):
    help = (
        "Customer segments. `run`: classify every customer from their orders (RFM, "
        "segments, classes, lifecycle, predictions) and keep a snapshot of who is where; "
        "the worker does it nightly. `history`: the latest runs and their sizes. "
        "`recommend`: recount which products are bought together (nightly too)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "history", "recommend"])
        parser.add_argument("--as-of", help="classify as of this date (default today)")
        parser.add_argument("--no-predict", action="store_true", help="skip BG/NBD and CLV")
        parser.add_argument(
            "--if-none", action="store_true", help="run only if no run has finished yet"
        )
        parser.add_argument("--limit", type=int, default=10, help="history: runs shown")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, as_json, **options):
        if action == "history":
            return self._history(options["limit"], as_json)
        if action == "recommend":
            from kehu.segments import recommend

            pairs = recommend.rebuild()
            self.stdout.write(
                json.dumps({"pairs": pairs}) if as_json else f"Kept {pairs:,} product pairs."
            )
            return
        if options["if_none"] and SegmentRun.objects.filter(status=RunStatus.DONE).exists():
            if as_json:
                self.stdout.write(json.dumps({"skipped": "a run has already finished"}))
            return
        as_of = None
        if options["as_of"]:
            try:
                as_of = datetime.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(f"--as-of: {options['as_of']!r} is not a date") from None
        console = Console(stderr=True, quiet=as_json)
        with console.status("starting") as status:
            run = runs.segment_run(
                actor=Actor(user=None, channel=Channel.SYSTEM),
                trigger=RunTrigger.COMMAND,
                as_of=as_of,
                with_predictions=not options["no_predict"],
                progress=lambda step: status.update(step),
            )
        summary = _summary(run)
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"Run {run.pk}: {run.customers:,} customers as of {run.as_of}, {summary['seconds']} s"
        )
        for scheme, sizes in summary["sizes"].items():
            self.stdout.write(f"{scheme}: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        if run.stats.get("prediction_error"):
            self.stdout.write(f"No predictions: {run.stats['prediction_error']}")

    def _history(self, limit: int, as_json: bool) -> None:
        shown = [_summary(run) for run in SegmentRun.objects.all()[:limit]]
        if as_json:
            self.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2))
            return
        for run in shown:
            self.stdout.write(
                f"{run['id']}  {run['as_of']}  {run['status']:7}  {run['customers']:>9,}  "
                + ", ".join(f"{k} {v:,}" for k, v in run["sizes"].get("rfm_segment", {}).items())
            )


def _summary(run: SegmentRun) -> dict:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.pk,
        "as_of": run.as_of.isoformat(),
        "status": run.status,
        "customers": run.customers,
        "scored": run.stats.get("scored"),
        "sizes": run.stats.get("sizes", {}),
        "bgnbd": run.stats.get("bgnbd"),
        "gamma_gamma": run.stats.get("gamma_gamma"),
        "prediction_error": run.stats.get("prediction_error"),
        "steps": run.stats.get("seconds", {}),
        "seconds": round(seconds, 2) if seconds is not None else None,
        "error": run.error,
    }
