"""Analyst mode: the engine and the predictions on any transactions file, one
row per customer out (``kehu analyze``). No database is needed."""

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import engine, predict, transactions
from .engine import CLASS_NAMES_CN, UNITS_PER_CURRENCY, EngineConfig

SEGMENT_NAMES = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalist": "Potential Loyalist",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need Attention",
    "about_to_sleep": "About to Sleep",
    "at_risk": "At Risk",
    "cant_lose": "Can't Lose Them",
    "hibernating": "Hibernating",
    "lost": "Lost",
}
OUTPUT_FORMATS = (".xlsx", ".csv", ".json")


@dataclass
class Result:
    table: pl.DataFrame
    summary: dict = field(default_factory=dict)


def _money(column: str) -> pl.Expr:
    return (pl.col(column) / UNITS_PER_CURRENCY).round(4)


def output_table(classified: pl.DataFrame, predictions: pl.DataFrame | None) -> pl.DataFrame:
    """The columns an analyst gets, in order; money in currency units."""
    table = classified.select(
        "customer",
        "recency",
        "frequency",
        "T",
        pl.col("monetary").round(4),
        "rfm_recency_days",
        "rfm_frequency",
        _money("rfm_monetary").alias("rfm_monetary"),
        "r_score",
        "f_score",
        "m_score",
        pl.col("rfm_segment").replace_strict(SEGMENT_NAMES, default=None),
        pl.col("rfm_class").replace_strict(CLASS_NAMES_CN, default=None).alias("rfm_class_cn"),
        "lifecycle_stage",
        "first_purchase",
        "last_purchase",
        "purchase_days",
    )
    prediction_columns = [
        "p_alive",
        "expected_purchases_30",
        "expected_purchases_90",
        "expected_purchases_365",
        "expected_spend",
        "clv",
    ]
    if predictions is not None:
        table = table.join(predictions, on="customer", how="left")
    for name in prediction_columns:
        if name not in table.columns:
            table = table.with_columns(pl.lit(None, pl.Float64).alias(name))
    return table.with_columns(pl.col(prediction_columns).fill_nan(None))


def _counts(table: pl.DataFrame, column: str) -> dict[str, int]:
    counts = table.group_by(column).len().drop_nulls(column).sort(column)
    return dict(counts.rows())


def analyze(
    path: str | Path,
    *,
    customer: str,
    date: str,
    amount: str,
    config: EngineConfig,
    as_of: datetime.date | None = None,
    calibration_end: datetime.date | None = None,
    with_predictions: bool = True,
    report: Callable[[str], None] = lambda message: None,
) -> Result:
    """Classify and predict the customers of a transactions file. ``as_of``
    defaults to the last date in the file, ``calibration_end`` to ``as_of``."""
    started = time.perf_counter()
    report("reading the file")
    loaded = transactions.load(path, customer=customer, date=date, amount=amount)
    tx = loaded.transactions
    last_day = tx["day"].max()
    as_of = as_of or last_day
    calibration_end = calibration_end or as_of
    if calibration_end > as_of:
        raise ValueError("--calibration-end must not be after --as-of")
    report("scoring RFM and lifecycle")
    classified = engine.classify(tx, as_of=as_of, config=config, calibration_end=calibration_end)
    fitted = None
    prediction_error = None
    if with_predictions and not predict.available():
        prediction_error = "pymc-marketing is not installed (pip install 'kehu[predict]')"
    elif with_predictions:
        report("fitting BG/NBD and Gamma-Gamma")
        try:
            fitted = predict.predict(classified, config)
        except predict.PredictionError as error:
            prediction_error = str(error)
    table = output_table(classified, fitted.predictions if fitted else None)
    summary = {
        "file": str(path),
        "rows": loaded.rows,
        "rows_used": tx.height,
        "rows_skipped": loaded.skipped,
        "problems": loaded.problems,
        "customers": table.height,
        "first_date": tx["day"].min().isoformat(),
        "last_date": last_day.isoformat(),
        "as_of": as_of.isoformat(),
        "calibration_end": calibration_end.isoformat(),
        "time_unit": config.time_unit,
        "window_days": config.window_days,
        "bgnbd": fitted.bgnbd if fitted else None,
        "gamma_gamma": fitted.gamma_gamma if fitted else None,
        "prediction_error": prediction_error,
        "segments": {
            "rfm_segment": _counts(table, "rfm_segment"),
            "rfm_class_cn": _counts(table, "rfm_class_cn"),
            "lifecycle_stage": _counts(table, "lifecycle_stage"),
        },
    }
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return Result(table, summary)


def write(table: pl.DataFrame, out: str | Path) -> Path:
    """Write the table as XLSX, CSV (UTF-8 with a BOM, so Excel reads Chinese)
    or JSON (a list of records), by the file's extension."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(f"--out must end in one of {', '.join(OUTPUT_FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        table.write_excel(out, worksheet="customers", autofit=True, freeze_panes=(1, 1))
    elif suffix == ".csv":
        with out.open("wb") as handle:
            handle.write("\ufeff".encode())
            table.write_csv(handle)
    else:
        records = table.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d")).to_dicts()
        out.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return out
