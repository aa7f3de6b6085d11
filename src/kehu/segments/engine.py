"""The classification engine: RFM scores and segments, the Chinese eight-class
scheme and lifecycle stages, computed set-based with Polars from a frame of
transactions. It imports nothing of Django, so ``kehu analyze`` (any file),
``kehu segment run`` (the database) and the tests all run the same code.

Input: one row per purchase or refund, with columns ``customer`` (any id),
``day`` (date) and ``amount`` (integer ten-thousandths of the currency, so sums
are exact and do not depend on row order); optionally ``count``, the purchases a
row stands for (a customer's orders of one day, summed by the database). A row
with an amount of 0 or more is a purchase (an order, a free one included); a
negative amount is a refund.

Conventions (docs/segments.md):

- RFM, over the window ``(as_of - window_days, as_of]`` (all history up to
  ``as_of`` when ``window_days`` is 0): R is the number of days from the last
  purchase to ``as_of`` (from the last refund for a customer with refunds only),
  F the number of purchases, M the net amount (purchases less refunds). Every
  customer with a row in the window is scored.
- A score is ``1 + floor(5 * (r - 1) / n)``: n customers scored, r the value's
  smallest rank when values are sorted worst first (oldest R, smallest F and M),
  so ties share a score.
- BG/NBD inputs, from purchases up to ``calibration_end``: ``frequency`` is the
  number of distinct purchase days after the first, ``recency`` the time from
  the first to the last purchase day and ``T`` from the first purchase day to
  ``calibration_end``, in days or weeks; ``monetary`` the mean total of the
  repeat purchase days (0 without any), as Gamma-Gamma takes it.
"""

import datetime
from dataclasses import dataclass, field

import polars as pl

UNITS_PER_CURRENCY = 10_000  # amounts are integer ten-thousandths

# The eleven named RFM segments by R score and F score (docs/segments.md).
SEGMENT_GRID: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "champions": ((5,), (4, 5)),
    "loyal": ((3, 4), (4, 5)),
    "potential_loyalist": ((4, 5), (2, 3)),
    "new": ((5,), (1,)),
    "promising": ((4,), (1,)),
    "need_attention": ((3,), (3,)),
    "about_to_sleep": ((3,), (1, 2)),
    "at_risk": ((1, 2), (3, 4)),
    "cant_lose": ((1, 2), (5,)),
    "hibernating": ((2,), (1, 2)),
    "lost": ((1,), (1, 2)),
}

# The Chinese eight classes (RFM 八类客户) by R, F and M high (True) or low.
CLASS_GRID: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important_value",
    (True, False, True): "important_develop",
    (False, True, True): "important_keep",
    (False, False, True): "important_retain",
    (True, True, False): "general_value",
    (True, False, False): "general_develop",
    (False, True, False): "general_keep",
    (False, False, False): "general_retain",
}
CLASS_NAMES_CN = {
    "important_value": "重要价值客户",
    "important_develop": "重要发展客户",
    "important_keep": "重要保持客户",
    "important_retain": "重要挽留客户",
    "general_value": "一般价值客户",
    "general_develop": "一般发展客户",
    "general_keep": "一般保持客户",
    "general_retain": "一般挽留客户",
}

LIFECYCLE_STAGES = ["new", "active", "silent", "churned"]


@dataclass(frozen=True)
class EngineConfig:
    """What an admin configures; the defaults are what Kehu ships."""

    window_days: int = 0  # RFM window; 0: all history up to as_of
    class_center: str = "mean"  # "mean" or "median": high / low in the eight classes
    lifecycle_mode: str = "fixed"  # "fixed" thresholds or each customer's "rhythm"
    new_days: int = 30  # first purchase at most this many days ago: new
    active_days: int = 90  # last purchase at most this many days ago: active
    churn_days: int = 180  # more than this: churned; in between: silent
    rhythm_active: float = 2.0  # rhythm mode: active within 2 of the customer's gaps
    rhythm_churn: float = 4.0  # churned after 4 gaps
    time_unit: str = "day"  # BG/NBD time unit: "day" or "week"
    clv_months: int = 12
    monthly_discount: float = 0.01
    horizons: tuple[int, ...] = field(default=(30, 90, 365))

    def __post_init__(self):
        problems = []
        if self.window_days < 0:
            problems.append("window_days must be 0 (all history) or more")
        if self.class_center not in ("mean", "median"):
            problems.append("class_center must be mean or median")
        if self.lifecycle_mode not in ("fixed", "rhythm"):
            problems.append("lifecycle_mode must be fixed or rhythm")
        if not 0 < self.active_days < self.churn_days:
            problems.append("0 < active_days < churn_days is required")
        if self.new_days < 0:
            problems.append("new_days must not be negative")
        if not 0 < self.rhythm_active < self.rhythm_churn:
            problems.append("0 < rhythm_active < rhythm_churn is required")
        if self.time_unit not in ("day", "week"):
            problems.append("time_unit must be day or week")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def days_per_unit(self) -> int:
        return 7 if self.time_unit == "week" else 1


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_days().cast(pl.Int64)


def summarize(
    transactions: pl.DataFrame,
    *,
    as_of: datetime.date,
    config: EngineConfig,
    calibration_end: datetime.date | None = None,
) -> pl.DataFrame:
    """One row per customer with a row up to ``as_of``: the RFM values, the
    purchase history lifecycle needs, and the BG/NBD inputs."""
    calibration_end = calibration_end or as_of
    if "count" not in transactions.columns:
        transactions = transactions.with_columns(pl.lit(1, pl.Int64).alias("count"))
    tx = transactions.lazy().filter(pl.col("day") <= as_of)
    purchase = pl.col("amount") >= 0
    in_window = (
        pl.lit(True)
        if not config.window_days
        else pl.col("day") > as_of - datetime.timedelta(days=config.window_days)
    )
    history = tx.group_by("customer").agg(
        pl.col("day").filter(purchase).min().alias("first_purchase"),
        pl.col("day").filter(purchase).max().alias("last_purchase"),
        pl.col("day").filter(in_window & purchase).max().alias("_last_in_window"),
        pl.col("day").filter(in_window).max().alias("_last_row_in_window"),
        pl.col("count").filter(in_window & purchase).sum().cast(pl.Int64).alias("rfm_frequency"),
        pl.col("amount").filter(in_window).sum().alias("rfm_monetary"),
        pl.col("day").filter(purchase).n_unique().alias("purchase_days"),
        pl.col("day").filter(in_window).count().alias("_rows_in_window"),
    )
    days = (
        tx.filter(purchase & (pl.col("day") <= calibration_end))
        .group_by("customer", "day")
        .agg(pl.col("amount").sum().alias("day_total"))
    )
    unit = config.days_per_unit
    bgnbd = (
        days.sort("customer", "day")
        .group_by("customer")
        .agg(
            (pl.len() - 1).cast(pl.Int64).alias("frequency"),
            pl.col("day").min().alias("_first_day"),
            pl.col("day").max().alias("_last_day"),
            pl.col("day_total").slice(1).mean().alias("_repeat_mean"),
        )
        .with_columns(
            (_days(pl.col("_last_day") - pl.col("_first_day")) / unit).alias("recency"),
            (_days(pl.lit(calibration_end) - pl.col("_first_day")) / unit).alias("T"),
            (pl.col("_repeat_mean").fill_null(0) / UNITS_PER_CURRENCY).alias("monetary"),
        )
        .drop("_first_day", "_last_day", "_repeat_mean")
    )
    last_seen = pl.coalesce("_last_in_window", "_last_row_in_window")
    return (
        history.join(bgnbd, on="customer", how="left")
        .with_columns(
            pl.when(pl.col("_rows_in_window") > 0)
            .then(_days(pl.lit(as_of) - last_seen))
            .alias("rfm_recency_days"),
            pl.when(pl.col("_rows_in_window") > 0).then(pl.col("rfm_frequency")),
            pl.when(pl.col("_rows_in_window") > 0).then(pl.col("rfm_monetary")),
        )
        .drop("_last_in_window", "_last_row_in_window", "_rows_in_window")
        .sort("customer")
        .collect()
    )


def _score(better: pl.Expr) -> pl.Expr:
    """1 + floor(5 (r - 1) / n), r the smallest rank of the value, worst first,
    n the rows of the frame (the customers scored)."""
    rank = better.rank(method="min").cast(pl.Int64)
    return (1 + (5 * (rank - 1)) // pl.len()).cast(pl.Int8)


def score_rfm(summary: pl.DataFrame, config: EngineConfig) -> pl.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score``, ``rfm_segment`` and
    ``rfm_class`` to customers with RFM values (the others get nulls)."""
    scored = summary.filter(pl.col("rfm_recency_days").is_not_null())
    rest = summary.filter(pl.col("rfm_recency_days").is_null())
    scored = scored.with_columns(
        _score(-pl.col("rfm_recency_days")).alias("r_score"),
        _score(pl.col("rfm_frequency")).alias("f_score"),
        _score(pl.col("rfm_monetary")).alias("m_score"),
    )
    center = {"mean": pl.Expr.mean, "median": pl.Expr.median}[config.class_center]
    r_high = pl.col("rfm_recency_days") < center(pl.col("rfm_recency_days"))
    f_high = pl.col("rfm_frequency") > center(pl.col("rfm_frequency"))
    m_high = pl.col("rfm_monetary") > center(pl.col("rfm_monetary"))
    scored = scored.with_columns(
        _segment_expr().alias("rfm_segment"),
        _class_expr(r_high, f_high, m_high).alias("rfm_class"),
    )
    empty = rest.with_columns(
        pl.lit(None, pl.Int8).alias("r_score"),
        pl.lit(None, pl.Int8).alias("f_score"),
        pl.lit(None, pl.Int8).alias("m_score"),
        pl.lit(None, pl.String).alias("rfm_segment"),
        pl.lit(None, pl.String).alias("rfm_class"),
    )
    return pl.concat([scored, empty]).sort("customer")


def _segment_expr() -> pl.Expr:
    expr = pl.when(False).then(pl.lit(None, pl.String))
    for name, (r_scores, f_scores) in SEGMENT_GRID.items():
        expr = expr.when(
            pl.col("r_score").is_in(r_scores) & pl.col("f_score").is_in(f_scores)
        ).then(pl.lit(name))
    return expr.otherwise(pl.lit(None, pl.String))


def _class_expr(r_high: pl.Expr, f_high: pl.Expr, m_high: pl.Expr) -> pl.Expr:
    expr = pl.when(False).then(pl.lit(None, pl.String))
    for (r, f, m), name in CLASS_GRID.items():
        expr = expr.when((r_high == r) & (f_high == f) & (m_high == m)).then(pl.lit(name))
    return expr.otherwise(pl.lit(None, pl.String))


def lifecycle(summary: pl.DataFrame, *, as_of: datetime.date, config: EngineConfig) -> pl.DataFrame:
    """Add ``lifecycle_stage`` (null for customers who never bought) and the
    thresholds used, ``active_within_days`` and ``churned_after_days``.

    New: first purchase at most ``new_days`` ago. Then by days since the last
    purchase: active up to the active threshold, silent up to the churn
    threshold, churned beyond. In rhythm mode the thresholds are multiples of the
    customer's own mean gap between purchase days (at least one day), for
    customers with two purchase days or more; the others keep the fixed ones."""
    since_last = _days(pl.lit(as_of) - pl.col("last_purchase"))
    since_first = _days(pl.lit(as_of) - pl.col("first_purchase"))
    active = pl.lit(config.active_days, pl.Float64)
    churn = pl.lit(config.churn_days, pl.Float64)
    if config.lifecycle_mode == "rhythm":
        span = _days(pl.col("last_purchase") - pl.col("first_purchase"))
        gap = pl.max_horizontal(span / (pl.col("purchase_days") - 1), pl.lit(1.0))
        has_rhythm = pl.col("purchase_days") >= 2
        active = pl.when(has_rhythm).then(gap * config.rhythm_active).otherwise(active)
        churn = pl.when(has_rhythm).then(gap * config.rhythm_churn).otherwise(churn)
    summary = summary.with_columns(
        active.alias("active_within_days"), churn.alias("churned_after_days")
    )
    stage = (
        pl.when(pl.col("first_purchase").is_null())
        .then(pl.lit(None, pl.String))
        .when(since_first <= config.new_days)
        .then(pl.lit("new"))
        .when(since_last <= pl.col("active_within_days"))
        .then(pl.lit("active"))
        .when(since_last <= pl.col("churned_after_days"))
        .then(pl.lit("silent"))
        .otherwise(pl.lit("churned"))
    )
    return summary.with_columns(stage.alias("lifecycle_stage"))


def classify(
    transactions: pl.DataFrame,
    *,
    as_of: datetime.date,
    config: EngineConfig,
    calibration_end: datetime.date | None = None,
) -> pl.DataFrame:
    """Summary, RFM scores, segments, classes and lifecycle in one frame, one row
    per customer, sorted by customer."""
    summary = summarize(transactions, as_of=as_of, config=config, calibration_end=calibration_end)
    return lifecycle(score_rfm(summary, config), as_of=as_of, config=config)


# ---- value grading ---------------------------------------------------------------

GRADE_FACTORS = ("recency", "frequency", "monetary", "loyalty")


@dataclass(frozen=True)
class GradeScheme:
    """A value grading (客户分级): a weighted score of four factors, each the
    customer's percentile among the scored customers (0 worst, 100 best):
    recency (days since the last purchase, fewer is better), frequency and
    monetary (RFM's F and M) and loyalty (days since the first purchase). Grades
    run best first: by ``quantiles``, each takes the next share (percent) of
    customers by score, ties together; by ``cutoffs``, the first grade whose
    minimum score the customer reaches."""

    key: str
    weights: dict[str, float]
    method: str  # "quantiles" or "cutoffs"
    grades: tuple[tuple[str, float], ...]  # (label, share % or minimum score)

    def __post_init__(self):
        problems = []
        if set(self.weights) - set(GRADE_FACTORS):
            problems.append(f"weights are for {', '.join(GRADE_FACTORS)}")
        if any(w < 0 for w in self.weights.values()) or not sum(self.weights.values()) > 0:
            problems.append("weights must not be negative, and one must be above 0")
        if self.method not in ("quantiles", "cutoffs"):
            problems.append("method must be quantiles or cutoffs")
        if not self.grades:
            problems.append("at least one grade is needed")
        values = [value for _label, value in self.grades]
        if self.method == "quantiles" and (
            any(v <= 0 for v in values) or abs(sum(values) - 100) > 1e-9
        ):
            problems.append("quantile shares must be above 0 and add up to 100")
        if self.method == "cutoffs" and (
            values != sorted(values, reverse=True) or len(set(values)) != len(values)
        ):
            problems.append("cut-offs must go down from the best grade")
        if problems:
            raise ValueError("; ".join(problems))


def _percentile(better: pl.Expr) -> pl.Expr:
    """0 for the worst value, 100 for the best, ties at their smallest rank."""
    rank = better.rank(method="min").cast(pl.Float64)
    n = pl.len().cast(pl.Float64)
    return pl.when(n > 1).then(100 * (rank - 1) / (n - 1)).otherwise(100.0)


def grade(classified: pl.DataFrame, schemes, *, as_of: datetime.date) -> pl.DataFrame:
    """Add ``grade_<key>`` and ``grade_score_<key>`` per scheme for the
    customers with RFM values (nulls for the others)."""
    scored = classified.filter(pl.col("rfm_recency_days").is_not_null())
    rest = classified.filter(pl.col("rfm_recency_days").is_null())
    factors = {
        "recency": _percentile(-pl.col("rfm_recency_days")),
        "frequency": _percentile(pl.col("rfm_frequency")),
        "monetary": _percentile(pl.col("rfm_monetary")),
        "loyalty": _percentile(_days(pl.lit(as_of) - pl.col("first_purchase")).fill_null(0)),
    }
    added = []
    for scheme in schemes:
        total = sum(scheme.weights.values())
        score = sum(
            (factors[name] * (weight / total) for name, weight in scheme.weights.items() if weight),
            pl.lit(0.0),
        ).round(6)  # so that equal inputs give equal scores whatever the float order
        score_name, grade_name = f"grade_score_{scheme.key}", f"grade_{scheme.key}"
        scored = scored.with_columns(score.alias(score_name))
        if scheme.method == "cutoffs":
            expr = pl.when(False).then(pl.lit(None, pl.String))
            for label, minimum in scheme.grades:
                expr = expr.when(pl.col(score_name) >= minimum).then(pl.lit(label))
            scored = scored.with_columns(expr.otherwise(pl.lit(None, pl.String)).alias(grade_name))
        else:
            position = (-pl.col(score_name)).rank(method="min").cast(pl.Float64)
            share = 100 * (position - 1) / pl.len()  # percent of customers ranked above
            expr = pl.when(False).then(pl.lit(None, pl.String))
            bound = 0.0
            for label, part in scheme.grades:
                bound += part
                expr = expr.when(share < bound - 1e-9).then(pl.lit(label))
            last = scheme.grades[-1][0]
            scored = scored.with_columns(expr.otherwise(pl.lit(last)).alias(grade_name))
        added += [(grade_name, pl.String), (score_name, pl.Float64)]
    rest = rest.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in added)
    return pl.concat([scored, rest.select(scored.columns)]).sort("customer")


# ---- scoring a few customers against the last full run -----------------------------


def cut_points(classified: pl.DataFrame, config: EngineConfig) -> dict:
    """What a full run's scores and classes rest on, to score customers later
    without re-ranking everyone: for each score 2-5, the worst value that still
    reached it (the most days for R, the fewest purchases or least spend for F
    and M), and the centres the classes compare against."""
    scored = classified.filter(pl.col("r_score").is_not_null())
    cuts: dict[str, list] = {"r": [], "f": [], "m": []}
    for s in range(2, 6):
        reached = scored.filter(pl.col("r_score") >= s)["rfm_recency_days"]
        cuts["r"].append(reached.max() if len(reached) else None)
        for key, column in (("f", "rfm_frequency"), ("m", "rfm_monetary")):
            reached = scored.filter(pl.col(f"{key}_score") >= s)[column]
            cuts[key].append(reached.min() if len(reached) else None)
    center = {"mean": pl.Series.mean, "median": pl.Series.median}[config.class_center]
    centers = {
        name: center(scored[column]) if scored.height else None
        for name, column in (
            ("r", "rfm_recency_days"),
            ("f", "rfm_frequency"),
            ("m", "rfm_monetary"),
        )
    }
    return {"cuts": cuts, "centers": centers}


def score_against(summary: pl.DataFrame, points: dict) -> pl.DataFrame:
    """RFM scores, segment and class for the customers of ``summary``, by a
    full run's ``cut_points``: a value gets the score of the full run's
    customers with that value, and between their values, the lower score."""
    cuts, centers = points["cuts"], points["centers"]

    def score(column: str, key: str, better_is_less: bool) -> pl.Expr:
        total = pl.lit(1, pl.Int8)
        for threshold in cuts[key]:
            if threshold is None:
                continue
            met = pl.col(column) <= threshold if better_is_less else pl.col(column) >= threshold
            total = total + met.cast(pl.Int8)
        return pl.when(pl.col(column).is_not_null()).then(total).cast(pl.Int8)

    scored = summary.with_columns(
        score("rfm_recency_days", "r", True).alias("r_score"),
        score("rfm_frequency", "f", False).alias("f_score"),
        score("rfm_monetary", "m", False).alias("m_score"),
    )
    if centers["r"] is None:
        high = [pl.lit(False)] * 3
    else:
        high = [
            pl.col("rfm_recency_days") < centers["r"],
            pl.col("rfm_frequency") > centers["f"],
            pl.col("rfm_monetary") > centers["m"],
        ]
    has = pl.col("r_score").is_not_null()
    return scored.with_columns(
        pl.when(has).then(_segment_expr()).alias("rfm_segment"),
        pl.when(has).then(_class_expr(*high)).alias("rfm_class"),
    )
