"""Applying the admins' rules and manual assignments to every customer in a
run: the evaluation frame (only the columns that active rules read), then one
JSON per customer with each dimension's values and why they were given."""

import datetime
import io
import json
from dataclasses import dataclass

import polars as pl
from django.conf import settings
from django.db import connection
from django.utils import timezone

from kehu.core.bulk import in_values, sqlite_frame
from kehu.core.models import AppliesTo, CustomFieldDefinition, FieldType
from kehu.customers.models import Customer, CustomerTag
from kehu.service import queries as service_queries
from kehu.service.models import SurveyResponse

from . import rules, sources
from .models import (
    AssignmentReason,
    CustomerScore,
    Dimension,
    ManualAssignment,
    RescoredCustomer,
    Rule,
)

CUSTOMER_COLUMNS = {
    "kind": "kind",
    "status": "status",
    "source": "source",
    "province": "province",
    "city": "city",
    "industry": "industry",
    "company_size": "company_size",
    "employees": "employees",
    "annual_revenue": "annual_revenue",
    "owner": "owner_id",
    "team": "team_id",
}
NUMBER_TYPES = {FieldType.INTEGER, FieldType.DECIMAL}


def custom_field_kinds() -> dict[str, str]:
    return {
        d.key: rules.NUMBER if d.field_type in NUMBER_TYPES else rules.TEXT
        for d in CustomFieldDefinition.objects.all()
    }


@dataclass
class CompiledRule:
    rule: Rule
    dimension: str | None  # the dimension's key, or None for a tag rule
    value: str | None  # the value's key
    tag: int | None  # the tag's id, for a tag rule
    condition: pl.Expr
    reads: list[str]  # columns, for "why"
    names: list[tuple[str, int | None]]  # (field, days) the condition reads
    columns: list[str]  # every column the condition reads (its kind's too)


def compile_rule(rule: Rule, fields, dimension: Dimension | None = None) -> CompiledRule:
    """``rule`` (saved or a draft) as a Polars condition. Rules of a dimension
    for individuals or organisations only match customers of that kind.
    RuleError when its conditions are not valid."""
    condition = rules.compile_condition(rule.conditions, fields)
    names = rules.referenced(rule.conditions)
    reads = [rules.column_of(fields[name], days) for name, days in names]
    if dimension is not None and dimension.applies_to != AppliesTo.BOTH:
        condition = condition & (pl.col("kind") == dimension.applies_to).fill_null(False)
        names = [*names, ("kind", None)] if ("kind", None) not in names else names
    return CompiledRule(
        rule,
        dimension.key if dimension else None,
        rule.value.key if dimension else None,
        rule.tag_id if dimension is None else None,
        condition,
        reads,
        names,
        [*dict.fromkeys([*reads, *(["kind"] if ("kind", None) in names else [])])],
    )


def compile_active(fields) -> tuple[list[CompiledRule], list[Dimension]]:
    """Active rules (of active dimensions, and tag rules), by priority. A rule
    that no longer compiles (a custom field was deleted) is skipped, not fatal."""
    dimensions = list(Dimension.objects.filter(active=True).prefetch_related("values"))
    by_pk = {d.pk: d for d in dimensions}
    compiled = []
    for rule in Rule.objects.filter(active=True).select_related("value"):
        if rule.value_id is not None and rule.value.dimension_id not in by_pk:
            continue
        dimension = by_pk[rule.value.dimension_id] if rule.value_id else None
        try:
            compiled.append(compile_rule(rule, fields, dimension))
        except rules.RuleError:
            continue
    compiled.sort(key=lambda c: (c.rule.priority, c.rule.pk or 0))
    return compiled, dimensions


def _only(column: str, ids) -> tuple[str, list]:
    if ids is None:
        return "", []
    condition, params = in_values(column, sorted(ids))
    return f" AND {condition}", params


NUMBER_COLUMNS = {"employees", "annual_revenue", "owner_id", "team_id"}


def _customer_columns(names: set[str], custom: set[str], ids=None) -> pl.DataFrame:
    """Customer columns by SQL, only those the rules read (``names`` are
    built-in field names, ``custom`` custom field keys), fetched in chunks
    with fixed types."""
    postgres = connection.vendor == "postgresql"
    plain = sorted(CUSTOMER_COLUMNS[n] for n in names if n in CUSTOMER_COLUMNS)
    select, schema = ["id"], {"customer": pl.Int64}
    for column in plain:
        quoted = connection.ops.quote_name(column)
        if column in NUMBER_COLUMNS:
            select.append(f"CAST({quoted} AS {'double precision' if postgres else 'REAL'})")
            schema[column] = pl.Float64
        else:
            select.append(quoted)
            schema[column] = pl.String
    for key in sorted(custom):
        if postgres:
            select.append(f"custom_fields->>{_sql_text(key)}")
        else:
            path = json.dumps(key)
            select.append(f"CAST(json_extract(custom_fields, '$.' || {_sql_text(path)}) AS TEXT)")
        schema[f"cf.{key}"] = pl.String
    created = "days_since_created" in names
    if created:  # seconds since 1970, UTC
        select.append(
            "CAST(extract(epoch FROM created_at) AS bigint)"
            if postgres
            else "CAST(strftime('%%s', created_at) AS INTEGER)"
        )
        schema["created_at"] = pl.Int64
    where, params = _only("id", ids)
    rest = f"FROM {Customer._meta.db_table} WHERE deleted_at IS NULL{where}"
    frame = read_frame(select, rest, params, schema)
    if created:
        moment = pl.from_epoch(pl.col("created_at"), time_unit="s").dt.replace_time_zone("UTC")
        frame = frame.with_columns(
            moment.dt.convert_time_zone(settings.TIME_ZONE).dt.date().alias("created_at")
        )
    return frame


def read_frame(
    select: list[str], rest: str, params: list, schema: dict, plain: bool = False
) -> pl.DataFrame:
    """``SELECT <select> <rest>`` as a frame of ``schema``, without a Python
    tuple per row: by COPY as CSV on PostgreSQL (a third of the time of
    fetching a million rows), as one CSV text that SQLite writes on SQLite
    (``plain``: see ``core.bulk.sqlite_frame``)."""
    if connection.vendor != "postgresql":
        return sqlite_frame(select, rest, params, schema, plain=plain)
    buffer = io.BytesIO()
    copy_sql = f"COPY (SELECT {', '.join(select)} {rest}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql, params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    if not buffer.tell():
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, schema=schema)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _tags(ids=None) -> pl.DataFrame:
    links = CustomerTag.objects.all()
    if ids is not None:
        links = links.filter(customer_id__in=ids)
    rows = list(links.values_list("customer_id", "tag__name"))
    frame = pl.DataFrame(rows, schema={"customer": pl.Int64, "tag": pl.String}, orient="row")
    return frame.group_by("customer").agg(pl.col("tag").alias("tags"))


def _service_metrics(names: set[str], ids=None) -> pl.DataFrame | None:
    frames = []
    if "open_complaints" in names:
        rows = list(service_queries.open_complaints(ids).values_list("customer_id"))
        frame = pl.DataFrame(rows, schema={"customer": pl.Int64}, orient="row")
        frames.append(frame.group_by("customer").len("open_complaints"))
    for name in ("nps", "csat"):
        if name in names:
            latest = SurveyResponse.objects.exclude(**{name: None})
            if ids is not None:
                latest = latest.filter(customer_id__in=ids)
            latest = latest.order_by("customer_id", "-submitted_at", "-id").values_list(
                "customer_id", name
            )
            frame = pl.DataFrame(
                list(latest), schema={"customer": pl.Int64, name: pl.Float64}, orient="row"
            )
            frames.append(frame.unique("customer", keep="first", maintain_order=True))
    if not frames:
        return None
    merged = frames[0]
    for frame in frames[1:]:
        merged = merged.join(frame, on="customer", how="full", coalesce=True)
    return merged


def wanted_fields(compiled: list[CompiledRule]) -> set[str]:
    return {name for c in compiled for name, _days in c.names}


def evaluation_frame(
    classified: pl.DataFrame,
    days: pl.DataFrame | None,
    compiled: list[CompiledRule],
    as_of: datetime.date,
    ids=None,
) -> pl.DataFrame:
    """One row per customer of ``classified`` with every column the rules
    read. ``days`` (the run's orders) is needed only for purchases_in_days;
    ``ids`` limits the reads to those customers (``classified`` holds only
    them)."""
    wanted = wanted_fields(compiled)
    frame = classified.select("customer")
    metrics = classified.select(
        "customer",
        pl.col("rfm_frequency").alias("order_count"),
        (pl.col("rfm_monetary") / 10_000).alias("total_spent"),
        (pl.col("rfm_monetary") / 10_000 / pl.col("rfm_frequency")).alias("average_spent"),
        (pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().alias("days_since_last_purchase"),
        *SCORE_CODES,
    )
    frame = frame.join(metrics, on="customer", how="left")
    custom = {n.removeprefix("cf.") for n in wanted if n.startswith("cf.")}
    if custom or wanted & (set(CUSTOMER_COLUMNS) | {"days_since_created"}):
        customers = _customer_columns(wanted, custom, ids)
        frame = frame.join(customers, on="customer", how="left")
        for key, kind in custom_field_kinds().items():
            if key in custom and kind == rules.NUMBER:
                frame = frame.with_columns(pl.col(f"cf.{key}").cast(pl.Float64, strict=False))
        if "days_since_created" in wanted:
            frame = frame.with_columns(
                (pl.lit(as_of) - pl.col("created_at")).dt.total_days().alias("days_since_created")
            ).drop("created_at")
    if "tags" in wanted:
        frame = frame.join(_tags(ids), on="customer", how="left")
    service = _service_metrics(wanted, ids)
    if service is not None:
        frame = frame.join(service, on="customer", how="left")
        if "open_complaints" in wanted:
            frame = frame.with_columns(pl.col("open_complaints").fill_null(0))
    for n_days in {d for c in compiled for _name, d in c.names if d}:
        column = f"purchases_in_{n_days}_days"
        if days is None:
            frame = frame.with_columns(pl.lit(0, pl.Int64).alias(column))
            continue
        recent = (
            days.filter(pl.col("day") > as_of - datetime.timedelta(days=n_days))
            .group_by("customer")
            .agg(pl.col("count").sum().alias(column))
        )
        frame = frame.join(recent, on="customer", how="left").with_columns(
            pl.col(column).fill_null(0)
        )
    return frame


# Columns the score row holds as well: "why" does not repeat them per customer,
# the customer page reads them from the score (as of the same run).
SCORE_CODES = ["rfm_segment", "rfm_class", "lifecycle_stage", "r_score", "f_score", "m_score"]
FROM_SCORE = {
    "order_count",
    "total_spent",
    "average_spent",
    "days_since_last_purchase",
    *SCORE_CODES,
}


ROW_SCHEMA = {
    "customer": pl.Int64,
    "value": pl.Int64,  # DimensionValue id
    "reason": pl.Int64,  # the reason's number among the rows' reasons
    "at": pl.Int32,  # the order within the customer's values
}
REASON_SCHEMA = {
    "reason": pl.Int64,
    "value": pl.Int64,
    "rule": pl.Int64,  # null: by hand
    "fired": pl.String,  # JSON of what the rule read that the score lacks
}


@dataclass
class Assigned:
    rows: pl.DataFrame  # ROW_SCHEMA: who gets which value, for which reason
    reasons: pl.DataFrame  # REASON_SCHEMA, numbered from 0 without gaps

    @classmethod
    def empty(cls) -> "Assigned":
        return cls(pl.DataFrame(schema=ROW_SCHEMA), pl.DataFrame(schema=REASON_SCHEMA))

    @classmethod
    def concat(cls, parts: list["Assigned"]) -> "Assigned":
        """Parts numbered from 0 each, renumbered one after the other."""
        rows, reasons, offset = [], [], 0
        for part in parts:
            rows.append(part.rows.with_columns(pl.col("reason") + offset))
            reasons.append(part.reasons.with_columns(pl.col("reason") + offset))
            offset += part.reasons.height
        if not rows:
            return cls.empty()
        return cls(
            pl.concat([r.cast(ROW_SCHEMA) for r in rows]),
            pl.concat([r.cast(REASON_SCHEMA) for r in reasons]),
        )


def _fired_columns(c: CompiledRule) -> list[str]:
    return [column for column in dict.fromkeys(c.reads) if column not in FROM_SCORE]


def _rule_rows(frame: pl.DataFrame, c: CompiledRule, value_id: int, at: int) -> Assigned:
    """One rule's rows for the customers of ``frame`` (where it stands); a
    reason per distinct combination of the values it read, encoded once."""
    columns = _fired_columns(c)
    if columns:
        part = frame.select("customer", *columns)
        distinct = part.select(columns).unique().with_row_index("reason")
        part = part.join(distinct, on=columns, how="left", nulls_equal=True)
        fired = pl.struct([pl.col(column) for column in columns]).struct.json_encode()
        reasons = distinct.select("reason", fired.alias("fired"))
    else:
        part = frame.select("customer", pl.lit(0).alias("reason"))
        reasons = pl.DataFrame({"reason": [0], "fired": ["{}"]})
    if part.is_empty():
        return Assigned.empty()
    return Assigned(
        part.select(
            "customer",
            pl.lit(value_id).alias("value"),
            "reason",
            pl.lit(at).alias("at"),
        ).cast(ROW_SCHEMA),
        reasons.select(
            "reason",
            pl.lit(value_id).alias("value"),
            pl.lit(c.rule.pk or 0).alias("rule"),
            "fired",
        ).cast(REASON_SCHEMA),
    )


def _hand_rows(manual: pl.DataFrame, dimension: Dimension, at: int) -> Assigned:
    """The values given by hand (the first only, in a single-value
    dimension); a reason per value."""
    ids = {v.key: v.pk for v in dimension.values.all()}
    own = manual.filter(pl.col("dimension") == dimension.key).sort("customer", "value")
    if not dimension.multiple:
        own = own.unique("customer", keep="first", maintain_order=True)
    own = own.select(
        "customer",
        pl.col("value").replace_strict(ids, default=None, return_dtype=pl.Int64).alias("value"),
    ).drop_nulls("value")
    values = own.select("value").unique().sort("value").with_row_index("reason")
    rows = own.join(values, on="value").with_columns(pl.lit(at).alias("at"))
    reasons = values.with_columns(pl.lit(None, pl.Int64).alias("rule"), pl.lit("{}").alias("fired"))
    return Assigned(
        rows.select(list(ROW_SCHEMA)).cast(ROW_SCHEMA),
        reasons.select(list(REASON_SCHEMA)).cast(REASON_SCHEMA),
    )


def _evaluate(frame: pl.DataFrame, columns: list[str], exprs: dict[str, pl.Expr]) -> pl.DataFrame:
    """``exprs`` over ``frame``, row for row. When the columns they read take
    few distinct combinations (a province, a kind, an order count), they are
    evaluated once per combination and joined back: string tests on 40
    provinces instead of a million customers."""
    plain = all(not isinstance(frame.schema[c], pl.List) for c in columns)
    if columns and plain:
        distinct = frame.select(columns).unique()
        if distinct.height * 5 <= frame.height:
            judged = distinct.with_columns(**exprs)
            return (
                frame.select(columns)
                .join(judged, on=columns, how="left", nulls_equal=True, maintain_order="left")
                .select(list(exprs))
            )
    return frame.select(**exprs)


def _winner(mine: list[CompiledRule]) -> pl.Expr:
    """The position in ``mine`` of the first rule that matches, else null."""
    found = pl.lit(None, pl.Int32)
    for n in reversed(range(len(mine))):
        found = pl.when(mine[n].condition).then(pl.lit(n, pl.Int32)).otherwise(found)
    return found


def dimension_rows(
    frame: pl.DataFrame, dimension: Dimension, mine: list[CompiledRule], manual: pl.DataFrame
) -> Assigned:
    """Who gets which value of one dimension, and why: the rules of ``mine``
    by priority and the values given by hand, for the customers of ``frame``."""
    ids = {v.key: v.pk for v in dimension.values.all()}
    hand = _hand_rows(manual, dimension, len(mine))
    hand = Assigned(
        hand.rows.join(frame.select("customer"), on="customer", how="semi"), hand.reasons
    )
    has_hand = frame["customer"].is_in(hand.rows["customer"].implode())
    parts = []
    read = [*dict.fromkeys(column for c in mine for column in c.columns)]
    narrow = frame.select("customer", *[*dict.fromkeys(c for r in mine for c in _fired_columns(r))])
    if dimension.multiple:
        matched = _evaluate(
            frame, read, {f"m{n}": c.condition.fill_null(False) for n, c in enumerate(mine)}
        )
        for n, c in enumerate(mine):
            parts.append(_rule_rows(narrow.filter(matched[f"m{n}"]), c, ids[c.value], n))
        parts.append(hand)
    else:
        winner = _evaluate(frame, read, {"winner": _winner(mine)}).to_series()
        overriding = [n for n, c in enumerate(mine) if c.rule.overrides_manual]
        won_over_hand = winner.is_in(overriding).fill_null(False)
        for n, c in enumerate(mine):
            stands = (winner == n).fill_null(False)
            if not c.rule.overrides_manual:
                stands = stands & ~has_hand
            parts.append(_rule_rows(narrow.filter(stands), c, ids[c.value], 0))
        kept = frame.filter(has_hand & ~won_over_hand).select("customer")
        parts.append(Assigned(hand.rows.join(kept, on="customer", how="semi"), hand.reasons))
    return Assigned.concat(parts)


def assignments(frame: pl.DataFrame, compiled, dimensions, manual: pl.DataFrame) -> Assigned:
    """Every dimension's rows, ``at`` ordering them by dimension and, within a
    dimension, by rule."""
    parts = []
    for position, dimension in enumerate(dimensions):
        mine = [c for c in compiled if c.dimension == dimension.key]
        found = dimension_rows(frame, dimension, mine, manual)
        rows = found.rows.with_columns((pl.col("at") + position * 1000).cast(pl.Int32))
        parts.append(Assigned(rows, found.reasons))
    return Assigned.concat(parts)


def reason_lists(rows: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """customer, their reasons' ids as JSON text (``[12,40]``), ``ids``
    giving each reason number's stored id, and their values' ids between
    commas (``,7,31,``, see ``CustomerScore.dimension_values``)."""
    # One integer key sorts by customer, then ``at`` (below 2**20): a third of
    # the time of sorting by two columns, and group_by keeps that order.
    key = pl.col("customer") * (1 << 20) + pl.col("at").cast(pl.Int64)
    # Integers until the lists are joined: 7 million short strings cost the
    # run 200 MB more at its peak.
    ordered = rows.select(
        key.alias("key"), "customer", ids.gather(rows["reason"]).alias("id"), "value"
    ).sort("key")
    listed = ordered.group_by("customer", maintain_order=True).agg("id", "value")
    text = pl.concat_str(
        [pl.lit("["), pl.col("id").cast(pl.List(pl.String)).list.join(","), pl.lit("]")]
    )
    # A value two rules give is listed once.
    values = (
        pl.col("value").list.unique(maintain_order=True).cast(pl.List(pl.String)).list.join(",")
    )
    return listed.select(
        "customer",
        text.alias("dimensions"),
        pl.concat_str([pl.lit(","), values, pl.lit(",")]).alias("dimension_values"),
    )


def manual_frame(ids=None) -> pl.DataFrame:
    assignments = ManualAssignment.objects.all()
    if ids is not None:
        assignments = assignments.filter(customer_id__in=ids)
    rows = assignments.values_list("customer_id", "value__dimension__key", "value__key")
    return pl.DataFrame(
        list(rows),
        schema={"customer": pl.Int64, "dimension": pl.String, "value": pl.String},
        orient="row",
    )


def tag_matches(frame: pl.DataFrame, compiled: list[CompiledRule]) -> pl.DataFrame:
    """customer, tag id and the first rule (by priority) that gives it, for
    every tag rule that matches."""
    parts = []
    for tag in dict.fromkeys(c.tag for c in compiled if c.tag is not None):
        mine = [c for c in compiled if c.tag == tag]
        first = pl.lit(None, pl.Int64)
        for c in reversed(mine):
            first = pl.when(c.condition).then(pl.lit(c.rule.pk or 0, pl.Int64)).otherwise(first)
        parts.append(
            frame.select(
                "customer", pl.lit(tag, pl.Int64).alias("tag"), first.alias("rule")
            ).filter(pl.col("rule").is_not_null())
        )
    schema = {"customer": pl.Int64, "tag": pl.Int64, "rule": pl.Int64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


@dataclass
class Applied:
    assigned: Assigned  # who gets which dimension value and why
    tags: pl.DataFrame  # customer, tag, rule: the tags the rules give
    dimensions: list[Dimension]  # the active ones, with their values


def apply(
    classified: pl.DataFrame, days: pl.DataFrame | None, as_of: datetime.date, ids=None
) -> Applied:
    """Every dimension's values for each customer of ``classified`` and the tags
    the tag rules give them."""
    fields = rules.fields_for(custom_field_kinds())
    compiled, dimensions = compile_active(fields)
    frame = evaluation_frame(classified, days, compiled, as_of, ids)
    return Applied(
        assignments(frame, compiled, dimensions, manual_frame(ids)),
        tag_matches(frame, compiled),
        dimensions,
    )


def store_reasons(assigned: Assigned, run) -> pl.DataFrame:
    """Write the reasons for ``run``; customer and their reason ids (JSON
    text) for the scores."""
    from kehu.core.bulk import insert_returning

    if assigned.reasons.is_empty():
        return pl.DataFrame(
            schema={"customer": pl.Int64, "dimensions": pl.String, "dimension_values": pl.String}
        )
    reasons = assigned.reasons.sort("reason")
    returned = insert_returning(
        AssignmentReason,
        ["run_id", "value_id", "rule_id", "by_hand", "fired"],
        [
            (run.pk, value, rule or None, rule is None, fired)
            for _n, value, rule, fired in reasons.rows()
        ],
        returning=["id"],
    )
    # Ids come in the order the rows went in (a sequence, or SQLite's rowid).
    ids = pl.Series("id", sorted(row[0] for row in returned), dtype=pl.Int64)
    return reason_lists(assigned.rows, ids)


CLASSIFIED_SCHEMA = {
    "customer": pl.Int64,
    "rfm_frequency": pl.Int64,
    "rfm_monetary": pl.Int64,
    "last_purchase": pl.Date,
    "rfm_segment": pl.String,
    "rfm_class": pl.String,
    "lifecycle_stage": pl.String,
    "r_score": pl.Int64,
    "f_score": pl.Int64,
    "m_score": pl.Int64,
}


def unscored(customers: pl.Series) -> pl.DataFrame:
    """``customers`` with empty run figures, for rules that read none."""
    return customers.to_frame("customer").with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in CLASSIFIED_SCHEMA.items()
        if name != "customer"
    )


def stored_classified(ids=None) -> pl.DataFrame:
    """What the rules read from a run, per live customer (of ``ids``), from
    the stored scores: the preview and a single customer's refresh use it.
    Customers not scored yet have nulls."""
    if connection.vendor == "postgresql":
        money = "round(s.rfm_monetary * 10000)::bigint"
    else:
        money = "CAST(round(s.rfm_monetary * 10000) AS INTEGER)"
    where, params = _only("c.id", ids)
    select = [
        "c.id",
        "s.rfm_frequency",
        money,
        "s.last_purchase",
        "s.rfm_segment",
        "s.rfm_class",
        "s.lifecycle_stage",
        "s.r_score",
        "s.f_score",
        "s.m_score",
    ]
    rest = f"""
        FROM {Customer._meta.db_table} c
        LEFT JOIN {CustomerScore._meta.db_table} s ON s.customer_id = c.id
        WHERE c.deleted_at IS NULL{where}
    """
    texts = ["rfm_segment", "rfm_class", "lifecycle_stage"]
    # Numbers, dates and the engine's codes (champions, important_value …).
    frame = read_frame(select, rest, params, CLASSIFIED_SCHEMA, plain=True)
    return frame.with_columns(
        *[pl.when(pl.col(t) != "").then(pl.col(t)).alias(t) for t in texts],
    )


def refresh(ids: list[int]) -> None:
    """Re-apply the rules and hand-given values to these customers' stored
    scores now (a value given by hand shows at once)."""
    scores = dict(CustomerScore.objects.filter(customer_id__in=ids).values_list("pk", "run_id"))
    if not scores:
        return
    as_of = timezone.localdate()
    scored = set(scores)
    classified = stored_classified(scored)
    applied = apply(classified, sources.order_days(as_of, scored), as_of, ids=scored)
    for run_id in set(scores.values()):
        mine = [pk for pk, run in scores.items() if run == run_id]
        stored = store_reasons(applied.assigned, SegmentRunRef(run_id))
        listed = {c: (reasons, values) for c, reasons, values in stored.rows()}
        for customer_id in mine:
            reasons, values = listed.get(customer_id, ("[]", ""))
            CustomerScore.objects.filter(pk=customer_id).update(
                dimensions=json.loads(reasons), dimension_values=values
            )
    RescoredCustomer.record(scored)


@dataclass
class SegmentRunRef:
    pk: int | None
