import datetime
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kehu.segments import analysis, transactions
from kehu.segments.engine import EngineConfig
from kehu.segments.settings_store import engine_config


def _date(value: str, option: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date (use 2026-01-31)") from None


class Command(BaseCommand):
    help = (
        "Classify and predict the customers of any transactions file (CSV or XLSX, one "
        "row per purchase; a negative amount is a refund) with Kehu's engine and "
        "configuration: RFM scores, the 11 RFM segments and the eight Chinese classes, "
        "lifecycle stage, BG/NBD and Gamma-Gamma predictions and lifetime value. "
        "Writes one row per customer; no import into Kehu needed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the transactions file (.csv or .xlsx)")
        parser.add_argument("--customer", required=True, help="column of the customer id")
        parser.add_argument("--date", required=True, help="column of the purchase date")
        parser.add_argument("--amount", required=True, help="column of the amount")
        parser.add_argument("--as-of", help="date to measure from (default: the last date)")
        parser.add_argument(
            "--calibration-end",
            help="last date the predictions learn from (default: --as-of)",
        )
        parser.add_argument("--time-unit", choices=["day", "week"], help="BG/NBD time unit")
        parser.add_argument(
            "--window-days", type=int, help="RFM window in days (0: all history up to --as-of)"
        )
        parser.add_argument(
            "--out", help="result file, .xlsx, .csv or .json (default: FILE_analysis.xlsx)"
        )
        parser.add_argument(
            "--no-predict", action="store_true", help="skip BG/NBD, Gamma-Gamma and CLV"
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")

    def handle(self, *args, file, as_json, **options):
        config = engine_config()
        overrides = {
            "time_unit": options["time_unit"],
            "window_days": options["window_days"],
        }
        try:
            config = EngineConfig(
                **(config.__dict__ | {k: v for k, v in overrides.items() if v is not None})
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        as_of = _date(options["as_of"], "--as-of") if options["as_of"] else None
        calibration_end = (
            _date(options["calibration_end"], "--calibration-end")
            if options["calibration_end"]
            else None
        )
        source = Path(file)
        out = Path(options["out"] or source.with_name(f"{source.stem}_analysis.xlsx"))
        if out.suffix.lower() not in analysis.OUTPUT_FORMATS:
            raise CommandError(f"--out must end in {', '.join(analysis.OUTPUT_FORMATS)}")
        report = (lambda m: None) if as_json else (lambda m: sys.stderr.write(f"… {m}\n"))
        try:
            result = analysis.analyze(
                source,
                customer=options["customer"],
                date=options["date"],
                amount=options["amount"],
                config=config,
                as_of=as_of,
                calibration_end=calibration_end,
                with_predictions=not options["no_predict"],
                report=report,
            )
        except (transactions.FileError, ValueError) as error:
            raise CommandError(str(error)) from None
        result.summary["output"] = str(analysis.write(result.table, out))
        if as_json:
            self.stdout.write(json.dumps(result.summary, ensure_ascii=False, indent=2))
            return
        self._print(result.summary)

    def _print(self, summary: dict) -> None:
        write = self.stdout.write
        write(
            f"{summary['customers']:,} customers from {summary['rows_used']:,} rows "
            f"({summary['first_date']} to {summary['last_date']}), as of {summary['as_of']}"
        )
        if summary["rows_skipped"]:
            write(f"{summary['rows_skipped']:,} rows skipped, for example:")
            for problem in summary["problems"]:
                write(f"  {problem}")
        for scheme, counts in summary["segments"].items():
            write(f"{scheme}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        if summary["bgnbd"]:
            write("BG/NBD: " + ", ".join(f"{k}={v:.4g}" for k, v in summary["bgnbd"].items()))
        if summary["gamma_gamma"]:
            params = summary["gamma_gamma"].items()
            write("Gamma-Gamma: " + ", ".join(f"{k}={v:.4g}" for k, v in params))
        if summary["prediction_error"]:
            write(f"No predictions: {summary['prediction_error']}")
        write(f"Written to {summary['output']} in {summary['seconds']} s")
