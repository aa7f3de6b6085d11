"""Applying the admins' rules and manual assignments to every customer in a
run: the evaluation frame (only the columns that active rules read), then one
JSON per customer with each dimension's values and why they were given."""

import datetime
import json
from dataclasses import dataclass

import polars as pl
from django.db import connection

from kehu.core.models import CustomFieldDefinition, FieldType
from kehu.customers.models import Customer, CustomerTag

from . import rules
from .models import Dimension, ManualAssignment, Rule

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
    dimension: str
    value: str
    condition: pl.Expr
    reads: list[str]  # columns, for "why"


def compile_active(fields) -> tuple[list[CompiledRule], list[Dimension]]:
    """Active rules of active dimensions, by priority. A rule that no longer
    compiles (a custom field was deleted) is skipped, not fatal."""
    dimensions = list(Dimension.objects.filter(active=True).prefetch_related("values"))
    active = {d.pk for d in dimensions}
    compiled = []
    for rule in Rule.objects.filter(active=True, value__dimension__in=active).select_related(
        "value__dimension"
    ):
        try:
            condition = rules.compile_condition(rule.conditions, fields)
        except rules.RuleError:
            continue
        reads = [
            rules.column_of(fields[name], days) for name, days in rules.referenced(rule.conditions)
        ]
        compiled.append(
            CompiledRule(rule, rule.value.dimension.key, rule.value.key, condition, reads)
        )
    compiled.sort(key=lambda c: (c.rule.priority, c.rule.pk))
    return compiled, dimensions


def _customer_columns(names: set[str], custom: set[str]) -> pl.DataFrame:
    """Customer columns by SQL, only those the rules read."""
    columns = ["id", *sorted(CUSTOMER_COLUMNS[n] for n in names)]
    select = [connection.ops.quote_name(c) for c in columns]
    for key in sorted(custom):
        path = json.dumps(key)
        if connection.vendor == "postgresql":
            select.append(f"custom_fields->>{_sql_text(key)}")
        else:
            select.append(f"json_extract(custom_fields, '$.' || {_sql_text(path)})")
    sql = f"SELECT {', '.join(select)} FROM {Customer._meta.db_table} WHERE deleted_at IS NULL"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    names_out = ["customer", *sorted(CUSTOMER_COLUMNS[n] for n in names)]
    names_out += [f"cf.{k}" for k in sorted(custom)]
    frame = pl.DataFrame(rows, schema=names_out, orient="row", infer_schema_length=None)
    return frame


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _tags() -> pl.DataFrame:
    links = CustomerTag.objects.values_list("customer_id", "tag__name")
    frame = pl.DataFrame(list(links), schema={"customer": pl.Int64, "tag": pl.String}, orient="row")
    return frame.group_by("customer").agg(pl.col("tag").alias("tags"))


def _service_metrics(names: set[str]) -> pl.DataFrame | None:
    from kehu.service.models import SurveyResponse, Ticket, TicketState, TicketType

    frames = []
    if "open_complaints" in names:
        open_ones = (
            Ticket.objects.filter(type=TicketType.COMPLAINT)
            .exclude(state__in=[TicketState.RESOLVED, TicketState.CLOSED])
            .values_list("customer_id")
        )
        rows = [(pk,) for (pk,) in open_ones]
        frame = pl.DataFrame(rows, schema={"customer": pl.Int64}, orient="row")
        frames.append(frame.group_by("customer").len("open_complaints"))
    for name in ("nps", "csat"):
        if name in names:
            latest = (
                SurveyResponse.objects.exclude(**{name: None})
                .order_by("customer_id", "-submitted_at", "-id")
                .values_list("customer_id", name)
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


def evaluation_frame(
    classified: pl.DataFrame,
    days: pl.DataFrame,
    compiled: list[CompiledRule],
    fields,
    as_of: datetime.date,
) -> pl.DataFrame:
    """One row per customer of ``classified`` with every column the rules read."""
    wanted = {name for c in compiled for name, _days in rules.referenced(c.rule.conditions)}
    frame = classified.select("customer")
    metrics = classified.select(
        "customer",
        pl.col("rfm_frequency").alias("order_count"),
        (pl.col("rfm_monetary") / 10_000).alias("total_spent"),
        (pl.col("rfm_monetary") / 10_000 / pl.col("rfm_frequency")).alias("average_spent"),
        (pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().alias("days_since_last_purchase"),
        "rfm_segment",
        "rfm_class",
        "lifecycle_stage",
        "r_score",
        "f_score",
        "m_score",
    )
    frame = frame.join(metrics, on="customer", how="left")
    plain = {n for n in wanted if n in CUSTOMER_COLUMNS}
    custom = {n.removeprefix("cf.") for n in wanted if n.startswith("cf.")}
    if plain or custom or "days_since_created" in wanted:
        customers = _customer_columns(plain, custom)
        frame = frame.join(customers, on="customer", how="left")
        for key, kind in custom_field_kinds().items():
            if key in custom and kind == rules.NUMBER:
                frame = frame.with_columns(pl.col(f"cf.{key}").cast(pl.Float64, strict=False))
    if "days_since_created" in wanted:
        created = Customer.objects.values_list("pk", "created_at")
        dates = pl.DataFrame(
            [(pk, at.date()) for pk, at in created],
            schema={"customer": pl.Int64, "created": pl.Date},
            orient="row",
        )
        frame = frame.join(dates, on="customer", how="left").with_columns(
            (pl.lit(as_of) - pl.col("created")).dt.total_days().alias("days_since_created")
        )
    if "tags" in wanted:
        frame = frame.join(_tags(), on="customer", how="left")
    service = _service_metrics(wanted)
    if service is not None:
        frame = frame.join(service, on="customer", how="left")
        if "open_complaints" in wanted:
            frame = frame.with_columns(pl.col("open_complaints").fill_null(0))
    for n_days in {d for c in compiled for name, d in rules.referenced(c.rule.conditions) if d}:
        recent = (
            days.filter(pl.col("day") > as_of - datetime.timedelta(days=n_days))
            .group_by("customer")
            .agg(pl.col("count").sum().alias(f"purchases_in_{n_days}_days"))
        )
        frame = frame.join(recent, on="customer", how="left").with_columns(
            pl.col(f"purchases_in_{n_days}_days").fill_null(0)
        )
    return frame


def _entry(value: pl.Expr, rule: pl.Expr, fired: pl.Expr) -> pl.Expr:
    """``{"value": …, "rule": …, "fired": {…}}`` as text; keys are slugs."""
    return pl.concat_str(
        [
            pl.lit('{"value":"'),
            value,
            pl.lit('","rule":'),
            rule,
            pl.lit(',"fired":'),
            fired,
            pl.lit("}"),
        ]
    )


def _rule_entry(c: CompiledRule) -> pl.Expr:
    return _entry(pl.lit(c.value), pl.lit(str(c.rule.pk)), _fired(c))


def _fired(c: CompiledRule) -> pl.Expr:
    if not c.reads:
        return pl.lit("{}")
    return pl.struct([pl.col(column) for column in c.reads]).struct.json_encode()


def assign(frame: pl.DataFrame, compiled, dimensions, manual: pl.DataFrame) -> pl.DataFrame:
    """customer and the ``dimensions`` JSON of each customer of ``frame``."""
    parts = []
    for dimension in dimensions:
        mine = [c for c in compiled if c.dimension == dimension.key]
        own = manual.filter(pl.col("dimension") == dimension.key)
        hand_column = f"hand.{dimension.key}"
        frame = frame.join(
            own.group_by("customer").agg(pl.col("value").sort().alias(hand_column)),
            on="customer",
            how="left",
        )
        hand = pl.col(hand_column)
        # (concat_list would make a customer without one null altogether)
        hand_entries = hand.list.eval(_entry(pl.element(), pl.lit("null"), pl.lit("{}"))).fill_null(
            pl.lit([], dtype=pl.List(pl.String))
        )

        if dimension.multiple:
            listed = pl.concat_list(
                [*[pl.when(c.condition).then(_rule_entry(c)) for c in mine], hand_entries]
            )
            text = listed.list.drop_nulls().list.unique(maintain_order=True).list.join(",")
        else:
            rule_entry = pl.lit(None, pl.String)
            for c in reversed(mine):  # the first rule that matches wins
                rule_entry = pl.when(c.condition).then(_rule_entry(c)).otherwise(rule_entry)
            override = pl.lit(False)
            for n, c in enumerate(mine):
                if c.rule.overrides_manual:
                    first = c.condition
                    for earlier in mine[:n]:
                        first = first & ~earlier.condition
                    override = override | first
            has_hand = hand.list.len().fill_null(0) > 0
            text = (
                pl.when(has_hand & ~override)
                .then(hand_entries.list.first())
                .otherwise(rule_entry)
                .fill_null("")
            )
        parts.append(
            pl.when(text != "").then(
                pl.concat_str([pl.lit(f'"{dimension.key}":['), text, pl.lit("]")])
            )
        )
    if not parts:
        return frame.select("customer", pl.lit("{}").alias("dimensions"))
    joined = pl.concat_list(parts).list.drop_nulls().list.join(",")
    return frame.select(
        "customer", pl.concat_str([pl.lit("{"), joined, pl.lit("}")]).alias("dimensions")
    )


def manual_frame() -> pl.DataFrame:
    rows = ManualAssignment.objects.values_list(
        "customer_id", "value__dimension__key", "value__key"
    )
    return pl.DataFrame(
        list(rows),
        schema={"customer": pl.Int64, "dimension": pl.String, "value": pl.String},
        orient="row",
    )


def apply(classified: pl.DataFrame, days: pl.DataFrame, as_of: datetime.date) -> pl.DataFrame:
    """customer and their dimensions JSON, for every customer of ``classified``."""
    fields = rules.fields_for(custom_field_kinds())
    compiled, dimensions = compile_active(fields)
    frame = evaluation_frame(classified, days, compiled, fields, as_of)
    return assign(frame, compiled, dimensions, manual_frame())
