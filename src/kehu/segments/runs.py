"""A segment run: classify every customer from Kehu's orders, store each one's
figures (``CustomerScore``), a snapshot of every scheme's membership and the
run's figures (sizes, R × F matrix, fitted parameters, timings)."""

import contextlib
import datetime
import json
import time
import zlib
from collections.abc import Callable

import numpy as np
import polars as pl
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kehu.core.changelog import Actor
from kehu.customers.models import Customer
from kehu.sales.models import Order

from . import dimensions, engine, predict, sources, tagging
from .engine import CLASS_GRID, LIFECYCLE_STAGES, SEGMENT_GRID, UNITS_PER_CURRENCY
from .models import (
    AssignmentReason,
    CustomerScore,
    GradeScheme,
    RescoredCustomer,
    RunStatus,
    RunTrigger,
    SegmentRun,
    SegmentSnapshot,
)
from .settings_store import engine_config

SCHEMES: dict[str, list[str]] = {
    "rfm_segment": list(SEGMENT_GRID),
    "rfm_class": list(CLASS_GRID.values()),
    "lifecycle_stage": LIFECYCLE_STAGES,
}
# A customer's figures from their orders: what an incremental run updates too.
FIGURE_COLUMNS = [
    "as_of",
    "rfm_recency_days",
    "rfm_frequency",
    "rfm_monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "rfm_class",
    "lifecycle_stage",
    "first_purchase",
    "last_purchase",
    "purchase_days",
    "active_within_days",
    "churned_after_days",
]
PREDICTION_COLUMNS = [
    "p_alive",
    "expected_purchases_30",
    "expected_purchases_90",
    "expected_purchases_365",
    "expected_spend",
    "clv",
]
SCORE_COLUMNS = [
    "customer_id",
    "run_id",
    *FIGURE_COLUMNS,
    *PREDICTION_COLUMNS,
    "value_at_risk",
    "grades",
    "dimensions",
    "dimension_values",
]

Progress = Callable[[str], None]


def _score_frame(
    classified: pl.DataFrame, predictions: pl.DataFrame | None, run: SegmentRun, schemes
) -> pl.DataFrame:
    frame = classified
    if predictions is not None:
        frame = frame.join(predictions, on="customer", how="left")
    for name in PREDICTION_COLUMNS:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(name))
    money = ["rfm_monetary"]
    return frame.select(
        pl.col("customer").alias("customer_id"),
        pl.lit(run.pk).alias("run_id"),
        pl.lit(run.as_of).alias("as_of"),
        "rfm_recency_days",
        "rfm_frequency",
        *[(pl.col(m) / UNITS_PER_CURRENCY).round(2).alias(m) for m in money],
        "r_score",
        "f_score",
        "m_score",
        pl.col("rfm_segment").fill_null(""),
        pl.col("rfm_class").fill_null(""),
        pl.col("lifecycle_stage").fill_null(""),
        "first_purchase",
        "last_purchase",
        pl.col("purchase_days").fill_null(0),
        "active_within_days",
        "churned_after_days",
        *[pl.col(p).fill_nan(None) for p in PREDICTION_COLUMNS[:4]],
        *[pl.col(p).fill_nan(None).round(2) for p in PREDICTION_COLUMNS[4:]],
        _value_at_risk().round(2).alias("value_at_risk"),
        _grades_json(schemes).alias("grades"),
        pl.col("dimensions").fill_null("[]"),
        pl.col("dimension_values").fill_null(""),
    )


def _value_at_risk() -> pl.Expr:
    """clv / p_alive is the value if still active (BG/NBD's expectations are
    p_alive times those of an active customer); (1 - p_alive) of it is at risk."""
    p_alive, clv = pl.col("p_alive").fill_nan(None), pl.col("clv").fill_nan(None)
    return pl.when(p_alive > 1e-9).then(clv / p_alive * (1 - p_alive))


@contextlib.contextmanager
def _indexes_built_after(cursor):
    """Drop the scores' primary key and index for a bulk load into the
    emptied table and build them after it: 1-2 s less for a million rows.
    Inside the load's transaction, so readers never see the table without."""
    table = CustomerScore._meta.db_table
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    )
    (primary,) = cursor.fetchone()
    quoted = connection.ops.quote_name(table)
    cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(primary)}")
    with _secondary_indexes_built_after(cursor):
        yield
    cursor.execute(
        f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(primary)}"
        f" PRIMARY KEY ({connection.ops.quote_name('customer_id')})"
    )


@contextlib.contextmanager
def _secondary_indexes_built_after(cursor):
    """The scores' indexes dropped for a bulk load and built after it, not row
    by row, inside the load's transaction. (SQL from the schema editor without
    entering it: SQLite's refuses to open inside a transaction.)"""
    editor = connection.schema_editor()
    editor.deferred_sql = []  # what entering it would set up
    indexes = CustomerScore._meta.indexes
    for index in indexes:
        cursor.execute(str(index.remove_sql(CustomerScore, editor)))
    yield
    for index in indexes:
        cursor.execute(str(index.create_sql(CustomerScore, editor)))


SQLITE_SLICE = 100_000


def _write_scores(scores: pl.DataFrame, read_at: datetime.datetime) -> None:
    """Replace every customer's figures in one transaction: readers see the old
    run or the new one, never a mix. On PostgreSQL, TRUNCATE (then COPY into an
    empty table) takes 2 s for a million rows where DELETE takes 8; readers of
    scores wait for those seconds, once a night."""
    table = connection.ops.quote_name(CustomerScore._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        empty = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
        cursor.execute(f"{empty} {table}")
        # Everyone's score is this run's now, as its snapshots show, but for
        # those changed since the run read its data (see segment_run).
        RescoredCustomer.objects.filter(at__lt=read_at).delete()
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(c) for c in SCORE_COLUMNS)
            # COPY's text format: the columns hold numbers, dates, plain codes
            # and JSON. JSON has no tab or line break, but its backslashes (a
            # quote in a grade's label is \" there) are COPY escapes: doubled.
            text = scores.with_columns(
                pl.col("grades").str.replace_all("\\", "\\\\", literal=True)
            ).write_csv(separator="\t", include_header=False, null_value="\\N", quote_style="never")
            copy_sql = f"COPY {table} ({names}) FROM STDIN"
            with _indexes_built_after(cursor), cursor.cursor.copy(copy_sql) as copy:
                copy.write(text)
        else:
            # Values ready for SQLite (dates as text, money as numbers), without
            # insert_rows' per-value adapters: 3 s instead of 6 for 1M rows.
            # (Sorting them by key first gained nothing and cost 130 MB.)
            names = ", ".join(connection.ops.quote_name(c) for c in SCORE_COLUMNS)
            marks = ", ".join(["%s"] * len(SCORE_COLUMNS))
            insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            with _secondary_indexes_built_after(cursor):
                # In slices: the whole frame made ready at once cost 300 MB.
                for start in range(0, scores.height, SQLITE_SLICE):
                    ready = scores.slice(start, SQLITE_SLICE).with_columns(
                        pl.col(pl.Date).dt.to_string("%Y-%m-%d")
                    )
                    cursor.executemany(insert, ready.iter_rows())


def _snapshot(
    run: SegmentRun, frame: pl.DataFrame, scheme: str, column: str, labels: list[str]
) -> SegmentSnapshot:
    members = frame.filter(pl.col(column).is_not_null()).select(
        "customer", pl.col(column).replace_strict(labels, list(range(len(labels))), default=None)
    )
    ids = members["customer"].cast(pl.Int64).to_numpy().astype(np.int64)
    codes = members[column].cast(pl.Int8).to_numpy().astype(np.int8)
    counts = {label: int((codes == n).sum()) for n, label in enumerate(labels)}
    return SegmentSnapshot(
        run=run,
        scheme=scheme,
        labels=labels,
        counts=counts,
        customer_ids=zlib.compress(ids.tobytes(), 1),
        codes=zlib.compress(codes.tobytes(), 1),
    )


def _dimension_snapshots(run: SegmentRun, applied: dimensions.Applied) -> list[SegmentSnapshot]:
    """A snapshot per active dimension, labelled by value key. A customer
    with several values of one dimension is listed once per value."""
    rows = applied.assigned.rows.select("customer", "value")
    snapshots = []
    for dimension in applied.dimensions:
        values = list(dimension.values.all())
        codes = {v.pk: n for n, v in enumerate(values)}
        mine = rows.filter(pl.col("value").is_in(list(codes)))
        if dimension.multiple:  # two rules may give one value
            mine = mine.unique()
        ids = mine["customer"].to_numpy().astype(np.int64)
        coded = mine["value"].replace_strict(codes, return_dtype=pl.Int8).to_numpy()
        snapshots.append(
            SegmentSnapshot(
                run=run,
                scheme=f"dimension:{dimension.key}",
                labels=[v.key for v in values],
                counts={v.key: int((coded == n).sum()) for n, v in enumerate(values)},
                customer_ids=zlib.compress(ids.tobytes(), 1),
                codes=zlib.compress(coded.astype(np.int8).tobytes(), 1),
            )
        )
    return snapshots


def _snapshot_plan(schemes) -> list[tuple[str, str, list[str]]]:
    """(snapshot scheme, frame column, labels) for every scheme of the run."""
    plan = [(key, key, labels) for key, labels in SCHEMES.items()]
    for scheme in schemes:
        labels = [label for label, _value in scheme.grades]
        plan.append((f"grade:{scheme.key}", f"grade_{scheme.key}", labels))
    return plan


def _grades_json(schemes) -> pl.Expr:
    if not schemes:
        return pl.lit("{}")
    fields = [
        pl.struct(
            pl.col(f"grade_{s.key}").alias("grade"), pl.col(f"grade_score_{s.key}").alias("score")
        ).alias(s.key)
        for s in schemes
    ]
    return pl.struct(fields).struct.json_encode()


def _stats(classified: pl.DataFrame) -> dict:
    scored = classified.filter(pl.col("r_score").is_not_null())
    matrix = (
        scored.group_by("r_score", "f_score")
        .agg(pl.len().alias("customers"), pl.col("rfm_monetary").sum().alias("revenue"))
        .sort("r_score", "f_score")
    )
    return {
        "scored": scored.height,
        "rf_matrix": [
            {
                "r": r,
                "f": f,
                "customers": n,
                "revenue": round(revenue / UNITS_PER_CURRENCY, 2),
            }
            for r, f, n, revenue in matrix.rows()
        ],
    }


def segment_run(
    *,
    actor: Actor,
    trigger: str,
    as_of: datetime.date | None = None,
    with_predictions: bool = True,
    progress: Progress = lambda step: None,
) -> SegmentRun:
    """Classify every live customer as of ``as_of`` (default today, in
    KEHU_TIME_ZONE) and store the results. A failed run is kept with its error
    and the previous results stay in place."""
    as_of = as_of or timezone.localdate()
    run = SegmentRun.objects.create(
        started_at=timezone.now(),
        as_of=as_of,
        trigger=trigger,
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
    )
    timings: dict[str, float] = {}

    def step(name: str):
        progress(name)
        timings[name] = time.perf_counter()

    try:
        step("reading orders")
        # Orders above this id are for the next incremental run.
        max_order_id = Order.objects.aggregate(top=Max("id"))["top"] or 0
        days = sources.order_days(as_of, up_to_id=max_order_id)
        live = sources.live_customer_ids()
        config = engine_config()
        step("classifying")
        # Customers in the recycle bin are neither scored nor counted in others' ranks.
        days = days.join(live.to_frame(), on="customer", how="semi")
        classified = engine.classify(days, as_of=as_of, config=config)
        schemes = [s.to_engine() for s in GradeScheme.objects.filter(active=True)]
        if schemes:
            classified = engine.grade(classified, schemes, as_of=as_of)
        classified = live.to_frame().join(classified, on="customer", how="left")
        step("applying rules")
        read_at = timezone.now()  # values given by hand from here on come after
        applied = dimensions.apply(classified, days, as_of)
        del days  # 4M orders' worth of memory, not needed any more
        dimension_snapshots = _dimension_snapshots(run, applied)
        listed = dimensions.store_reasons(applied.assigned, run)
        classified = classified.join(listed, on="customer", how="left")
        step("tagging")
        tagged = tagging.sync(applied.tags, live, actor=actor)
        del applied
        fitted = None
        prediction_error = ""
        if with_predictions:
            step("predicting")
            if not predict.available():
                prediction_error = "pymc-marketing is not installed (kehu[predict])"
            else:
                try:
                    fitted = predict.predict(classified, config)
                except predict.PredictionError as error:
                    prediction_error = str(error)
        step("writing scores")
        predictions = fitted.predictions if fitted else None
        # Scores, snapshots and the run's state land together: the list
        # filters take the latest done run's snapshots for where scores stand.
        with transaction.atomic():
            _write_scores(_score_frame(classified, predictions, run, schemes), read_at)
            # Scores now point at this run's reasons only.
            AssignmentReason.objects.exclude(run=run).delete()
            step("writing snapshots")
            snapshots = [
                _snapshot(run, classified, scheme, column, labels)
                for scheme, column, labels in _snapshot_plan(schemes)
            ] + dimension_snapshots
            SegmentSnapshot.objects.bulk_create(snapshots)
            step("done")
            marks = list(timings.items())
            run.stats = _stats(classified) | {
                "sizes": {s.scheme: s.counts for s in snapshots},
                "max_order_id": max_order_id,
                "points": engine.cut_points(classified, config),
                "bgnbd": fitted.bgnbd if fitted else None,
                "gamma_gamma": fitted.gamma_gamma if fitted else None,
                "prediction_error": prediction_error,
                "tags": {"added": tagged.added, "removed": tagged.removed},
                "seconds": {
                    name: round(marks[n + 1][1] - at, 2) for n, (name, at) in enumerate(marks[:-1])
                },
            }
            run.customers = classified.height
            run.status = RunStatus.DONE
            run.finished_at = timezone.now()
            run.save()
    except Exception as error:
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
    # A value given by hand while the run worked is in no score it wrote.
    changed = RescoredCustomer.objects.filter(at__gte=read_at).values_list("pk", flat=True)
    if changed:
        dimensions.refresh(list(changed))
    return run


def load_snapshot(snapshot: SegmentSnapshot) -> pl.DataFrame:
    """Customer ids and their segment label."""
    ids = np.frombuffer(zlib.decompress(bytes(snapshot.customer_ids)), dtype=np.int64)
    codes = np.frombuffer(zlib.decompress(bytes(snapshot.codes)), dtype=np.int8)
    labels = pl.Series(snapshot.labels, dtype=pl.String)
    return pl.DataFrame({"customer": ids, "segment": labels.gather(codes.astype(np.int64))})


def migration(scheme: str, earlier: SegmentRun, later: SegmentRun) -> pl.DataFrame:
    """How many customers moved from each segment (``earlier``) to each segment
    (``later``): columns ``from``, ``to`` and ``customers``; a customer new to
    the scheme comes from null, one who left it goes to null."""
    before = load_snapshot(earlier.snapshots.get(scheme=scheme))
    after = load_snapshot(later.snapshots.get(scheme=scheme))
    joined = before.join(after, on="customer", how="full", suffix="_after", coalesce=True)
    return (
        joined.group_by(pl.col("segment").alias("from"), pl.col("segment_after").alias("to"))
        .len("customers")
        .sort("from", "to", nulls_last=True)
    )


INCREMENTAL_COLUMNS = FIGURE_COLUMNS


def full_runs():
    return SegmentRun.objects.filter(status=RunStatus.DONE).exclude(trigger=RunTrigger.ORDERS)


def incremental_run(*, actor: Actor, as_of: datetime.date | None = None) -> SegmentRun | None:
    """Re-score the customers whose orders arrived since the last run: their
    RFM values, lifecycle and dates from their own orders, their scores,
    segment and class against the last full run's cut points (the nightly run
    re-ranks everyone). Grades and predictions wait for the nightly run. None
    when no order arrived."""
    base = full_runs().order_by("-started_at", "-id").first()
    if base is None or "points" not in base.stats:
        return None
    since = (
        SegmentRun.objects.filter(
            trigger=RunTrigger.ORDERS, status=RunStatus.DONE, started_at__gte=base.started_at
        )
        .order_by("-started_at", "-id")
        .first()
    )
    watermark = since.stats["watermark"] if since else base.stats["max_order_id"]
    new = list(Order.objects.filter(pk__gt=watermark).values_list("pk", "customer_id"))
    if not new:
        return None
    as_of = as_of or timezone.localdate()
    live = set(Customer.objects.filter(pk__in={c for _o, c in new}).values_list("pk", flat=True))
    run = SegmentRun.objects.create(
        started_at=timezone.now(),
        as_of=as_of,
        trigger=RunTrigger.ORDERS,
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
    )
    try:
        config = engine_config()
        days = sources.order_days(as_of, live)
        summary = engine.summarize(days, as_of=as_of, config=config)
        summary = engine.lifecycle(summary, as_of=as_of, config=config)
        scored = engine.score_against(summary, base.stats["points"])
        applied = dimensions.apply(scored, days, as_of, ids=live)
        listed = dimensions.store_reasons(applied.assigned, run)
        scored = scored.join(listed, on="customer", how="left")
        _update_scores(scored, as_of, run)
        tagging.sync(applied.tags, pl.Series(sorted(live), dtype=pl.Int64), actor=actor)
        run.stats = {
            "watermark": max(pk for pk, _c in new),
            "base": base.pk,
            "orders": len(new),
        }
        run.customers = scored.height
        run.status = RunStatus.DONE
    except Exception as error:
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
    return run


def _update_scores(scored: pl.DataFrame, as_of: datetime.date, run: SegmentRun) -> None:
    values = scored.with_columns(
        (pl.col("rfm_monetary") / UNITS_PER_CURRENCY).round(2).alias("rfm_monetary"),
        pl.col("purchase_days").fill_null(0),
        *[pl.col(c).fill_null("") for c in ("rfm_segment", "rfm_class", "lifecycle_stage")],
        pl.col("dimensions").fill_null("[]"),
        pl.col("dimension_values").fill_null(""),
    ).to_dicts()
    with transaction.atomic():
        current = CustomerScore.objects.select_for_update().in_bulk([v["customer"] for v in values])
        changed, created = [], []
        for row in values:
            score = current.get(row["customer"]) or CustomerScore(customer_id=row["customer"])
            for name in INCREMENTAL_COLUMNS:
                setattr(score, name, as_of if name == "as_of" else row[name])
            score.dimensions = json.loads(row["dimensions"])
            score.dimension_values = row["dimension_values"]
            score.run = run
            (changed if score.customer_id in current else created).append(score)
        updated = [*INCREMENTAL_COLUMNS, "dimensions", "dimension_values", "run"]
        CustomerScore.objects.bulk_update(changed, updated, batch_size=1000)
        CustomerScore.objects.bulk_create(created, batch_size=1000)
        RescoredCustomer.record([row["customer"] for row in values])
