"""Kehu benchmark: a full segment run on the whole base, against pandas and DuckDB.

    python bench/segments.py --database-url postgresql://postgres@127.0.0.1:5432/kehu_bench
    python bench/segments.py --database-url sqlite:///var/bench.sqlite3 --predict

Times ``segments.runs.segment_run`` in this process (read every order, classify:
RFM scores, the 11 segments, the eight classes, lifecycle; write a million
customers' scores and the snapshots), and its peak RSS. With ``--predict``, a
second run adds the BG/NBD and Gamma-Gamma fit and scoring, timed on its own.

In the same script, as baselines on the same data (the orders as the run reads
them, exported to Parquet, untimed): a plain pandas script reading that Parquet
and computing R, F and M with their 1-5 scores, and one DuckDB query doing the
same. Both are checked to agree with the scores Kehu stored, and Kehu's time is
printed as a ratio to each.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGET_SECONDS = 20
TARGET_PREDICT_SECONDS = 60
TARGET_RSS_MB = 2048

DUCKDB_RFM = """
WITH per_customer AS (
    SELECT customer, max(day) AS last_day, sum("count") AS f, sum(amount) AS m
    FROM read_parquet(?) WHERE day <= ?::DATE GROUP BY customer
), scored AS (
    SELECT customer, date_diff('day', last_day, ?::DATE) AS r, f, m, count(*) OVER () AS n
    FROM per_customer
)
SELECT customer,
       1 + (5 * (rank() OVER (ORDER BY r DESC) - 1)) // n AS r_score,
       1 + (5 * (rank() OVER (ORDER BY f) - 1)) // n AS f_score,
       1 + (5 * (rank() OVER (ORDER BY m) - 1)) // n AS m_score
FROM scored
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("KEHU_DATABASE_URL"))
    parser.add_argument("--predict", action="store_true", help="also time the predictions")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def pandas_rfm(path: str, as_of):
    """What an analyst would write: read, group, rank."""
    import pandas as pd

    orders = pd.read_parquet(path)
    orders["day"] = pd.to_datetime(orders["day"])
    orders = orders[orders["day"] <= pd.Timestamp(as_of)]
    grouped = orders.groupby("customer").agg(
        last_day=("day", "max"), f=("count", "sum"), m=("amount", "sum")
    )
    grouped["r"] = (pd.Timestamp(as_of) - grouped["last_day"]).dt.days
    n = len(grouped)
    for name, values in (("r", -grouped["r"]), ("f", grouped["f"]), ("m", grouped["m"])):
        rank = values.rank(method="min").astype("int64")
        grouped[f"{name}_score"] = 1 + (5 * (rank - 1)) // n
    return grouped[["r_score", "f_score", "m_score"]]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    args = parse_args()
    if args.database_url:
        os.environ["KEHU_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    import duckdb
    import pandas  # noqa: F401 - imported before the clock starts, like duckdb
    import polars as pl
    import pyarrow.parquet  # noqa: F401
    from django.db import connection
    from django.utils import timezone

    from kehu.core.changelog import Actor
    from kehu.segments import runs, sources
    from kehu.segments.models import CustomerScore, RunTrigger

    as_of = timezone.localdate()
    started = time.perf_counter()
    run = runs.segment_run(
        actor=Actor.system(), trigger=RunTrigger.COMMAND, as_of=as_of, with_predictions=False
    )
    kehu_seconds = time.perf_counter() - started
    rss = peak_rss_mb()

    with tempfile.TemporaryDirectory() as scratch:
        parquet = str(Path(scratch) / "orders.parquet")
        live = sources.live_customer_ids().to_frame()
        orders = sources.order_days(as_of).join(live, on="customer", how="semi")
        orders.write_parquet(parquet)
        del orders
        started = time.perf_counter()
        by_pandas = pandas_rfm(parquet, as_of)
        pandas_seconds = time.perf_counter() - started
        started = time.perf_counter()
        by_duckdb = pl.from_arrow(
            duckdb.sql(DUCKDB_RFM, params=[parquet, as_of, as_of]).to_arrow_table()
        )
        duckdb_seconds = time.perf_counter() - started

    stored = pl.DataFrame(
        list(
            CustomerScore.objects.filter(r_score__isnull=False).values_list(
                "customer_id", "r_score", "f_score", "m_score"
            )
        ),
        schema=["customer", "r_score", "f_score", "m_score"],
        orient="row",
    ).sort("customer")
    from_pandas = pl.DataFrame(
        {
            "customer": by_pandas.index.to_numpy(),
            **{c: by_pandas[c].to_numpy() for c in ("r_score", "f_score", "m_score")},
        }
    ).sort("customer")
    from_duckdb = by_duckdb.sort("customer")
    columns = ["customer", "r_score", "f_score", "m_score"]

    def same(other) -> bool:
        cast = [pl.col(c).cast(pl.Int64) for c in columns]
        return stored.select(cast).equals(other.select(cast))

    summary = {
        "database": connection.vendor,
        "customers": run.customers,
        "scored": run.stats["scored"],
        "kehu_seconds": round(kehu_seconds, 2),
        "kehu_steps": run.stats["seconds"],
        "peak_rss_mb": round(rss),
        "pandas_seconds": round(pandas_seconds, 2),
        "duckdb_seconds": round(duckdb_seconds, 2),
        "ratio_to_pandas": round(kehu_seconds / pandas_seconds, 2),
        "ratio_to_duckdb": round(kehu_seconds / duckdb_seconds, 2),
        "pandas_agrees": same(from_pandas),
        "duckdb_agrees": same(from_duckdb),
        "target_seconds": TARGET_SECONDS,
        "target_rss_mb": TARGET_RSS_MB,
    }
    summary["meets_target"] = kehu_seconds <= TARGET_SECONDS and rss <= TARGET_RSS_MB
    if args.predict:
        started = time.perf_counter()
        predicted = runs.segment_run(
            actor=Actor.system(), trigger=RunTrigger.COMMAND, as_of=as_of, with_predictions=True
        )
        summary["with_predictions_seconds"] = round(time.perf_counter() - started, 2)
        summary["predict_seconds"] = predicted.stats["seconds"].get("predicting")
        summary["bgnbd"] = predicted.stats["bgnbd"]
        summary["gamma_gamma"] = predicted.stats["gamma_gamma"]
        summary["peak_rss_mb_with_predictions"] = round(peak_rss_mb())
        summary["meets_predict_target"] = summary["predict_seconds"] <= TARGET_PREDICT_SECONDS
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"database: {summary['database']}; {summary['customers']:,} customers, "
            f"{summary['scored']:,} scored"
        )
        print(
            f"kehu run: {summary['kehu_seconds']} s (target {TARGET_SECONDS}), peak RSS "
            f"{summary['peak_rss_mb']} MB (target {TARGET_RSS_MB}) "
            f"{'ok' if summary['meets_target'] else 'MISS'}; steps {summary['kehu_steps']}"
        )
        print(
            f"pandas:   {summary['pandas_seconds']} s, Kehu is {summary['ratio_to_pandas']}x "
            f"of it; agrees: {summary['pandas_agrees']}"
        )
        print(
            f"duckdb:   {summary['duckdb_seconds']} s, Kehu is {summary['ratio_to_duckdb']}x "
            f"of it; agrees: {summary['duckdb_agrees']}"
        )
        if args.predict:
            print(
                f"predictions: {summary['predict_seconds']} s (target "
                f"{TARGET_PREDICT_SECONDS}); whole run {summary['with_predictions_seconds']} s"
            )
    ok = summary["meets_target"] and summary["pandas_agrees"] and summary["duckdb_agrees"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
