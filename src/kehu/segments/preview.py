"""What a rule would do if saved as drafted, before it is saved: how many
customers it matches, how many would change value (or gain or lose the tag),
and a sample of them with the values that fired it. It runs the same
evaluation as a run, over the last run's stored figures and the customers as
they are now."""

from dataclasses import dataclass, field

import polars as pl
from django.utils import timezone

from kehu.core.changelog import Actor
from kehu.customers.models import Customer, CustomerTag

from . import dimension_services, dimensions, rules, sources
from .models import Rule, RunStatus, SegmentRun

SAMPLE = 20


@dataclass
class Preview:
    customers: int  # live customers evaluated
    matching: int  # whose figures meet the conditions
    gaining: int  # who would get the value or tag
    losing: int  # who would lose it
    moving: int  # whose values of the dimension (or the tag) would change
    sample: list[dict] = field(default_factory=list)
    run: SegmentRun | None = None  # whose figures the purchase metrics are


def _frame(compiled: list[dimensions.CompiledRule], as_of):
    if dimensions.wanted_fields(compiled) & dimensions.FROM_SCORE:
        classified = dimensions.stored_classified()
    else:  # the rules read no figure of the run: the live customers will do
        classified = dimensions.unscored(sources.live_customer_ids())
    needs_days = any(days for c in compiled for _name, days in c.names)
    days = sources.order_days(as_of) if needs_days else None
    return dimensions.evaluation_frame(classified, days, compiled, as_of)


def _replace(compiled: list, draft: dimensions.CompiledRule, saved_pk) -> list:
    kept = [c for c in compiled if saved_pk is None or c.rule.pk != saved_pk]
    if draft.rule.active:
        kept.append(draft)
    return sorted(kept, key=lambda c: (c.rule.priority, c.rule.pk or 0))


def rule_preview(*, actor: Actor, data: dict, rule: Rule | None = None) -> Preview:
    """The effect of saving ``data`` as a new rule or as ``rule``'s new
    version (admins). Raises ValidationError like ``rule_save``."""
    dimension_services._require_admin(actor)
    cleaned = dimension_services.clean_rule(data, rule)
    draft = dimension_services.draft_rule(cleaned, rule)
    fields = rules.fields_for(dimensions.custom_field_kinds())
    active, all_dimensions = dimensions.compile_active(fields)
    as_of = timezone.localdate()
    saved_pk = getattr(rule, "pk", None)
    if draft.value_id is not None:
        dimension = draft.value.dimension
        compiled = dimensions.compile_rule(draft, fields, dimension)
        before = [c for c in active if c.dimension == dimension.key]
        after = _replace(before, compiled, saved_pk)
        result = _dimension_preview(dimension, compiled, before, after, as_of)
    else:
        tag = draft.tag if draft.tag.pk else None
        compiled = dimensions.compile_rule(draft, fields)
        compiled.tag = tag.pk if tag else -1
        before = [c for c in active if tag is not None and c.tag == tag.pk]
        after = _replace(before, compiled, saved_pk)
        result = _tag_preview(tag, compiled, after, as_of)
    result.run = SegmentRun.objects.filter(status=RunStatus.DONE).order_by("-started_at").first()
    return result


def _sample(moving: pl.DataFrame, columns: list[str]) -> list[dict]:
    picked = moving.sample(min(SAMPLE, moving.height), seed=0).sort("customer")
    names = dict(
        Customer.objects.filter(pk__in=picked["customer"].to_list()).values_list("pk", "name")
    )
    rows = []
    for row in picked.to_dicts():
        rows.append(
            {
                "customer": row["customer"],
                "name": names.get(row["customer"], ""),
                "before": _listed(row["before"]),
                "after": _listed(row["after"]),
                "fired": {c: row[c] for c in columns},
            }
        )
    return rows


def _listed(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _dimension_preview(dimension, draft, before, after, as_of) -> Preview:
    frame = _frame([*before, draft], as_of)
    manual = dimensions.manual_frame().filter(pl.col("dimension") == dimension.key)
    names = {v.pk: v.display_name for v in dimension.values.all()}

    def values(rules_, column):
        rows = dimensions.dimension_rows(frame, dimension, rules_, manual).rows
        return rows.group_by("customer").agg(
            pl.col("value")
            .unique()
            .sort()
            .replace_strict(names, return_dtype=pl.String)
            .alias(column)
        )

    columns = [c for c in dict.fromkeys(draft.reads) if c in frame.columns]
    nothing = pl.lit([], pl.List(pl.String))
    judged = (
        frame.select("customer", *columns, draft.condition.fill_null(False).alias("matches"))
        .join(values(before, "before"), on="customer", how="left")
        .join(values(after, "after"), on="customer", how="left")
        .with_columns(pl.col("before").fill_null(nothing), pl.col("after").fill_null(nothing))
    )
    name = names.get(draft.rule.value_id, "")
    had = judged["before"].list.contains(name)
    has = judged["after"].list.contains(name)
    moving = judged.filter(pl.col("before") != pl.col("after"))
    return Preview(
        customers=judged.height,
        matching=int(judged["matches"].sum()),
        gaining=int((has & ~had).sum()),
        losing=int((had & ~has).sum()),
        moving=moving.height,
        sample=_sample(moving, columns),
    )


def _tag_preview(tag, draft, after, as_of) -> Preview:
    frame = _frame([*after, draft], as_of)
    columns = [c for c in dict.fromkeys(draft.reads) if c in frame.columns]
    given = dimensions.tag_matches(frame, after).select("customer").unique()
    holders = pl.DataFrame(
        list(CustomerTag.objects.filter(tag=tag).values_list("customer_id", "given_by_rule"))
        if tag
        else [],
        schema={"customer": pl.Int64, "rule": pl.Int64},
        orient="row",
    )
    by_hand = holders.filter(pl.col("rule").is_null()).select("customer")
    label = tag.name if tag else draft.rule.tag.name
    judged = frame.select(
        "customer", *columns, draft.condition.fill_null(False).alias("matches")
    ).with_columns(
        pl.col("customer").is_in(holders["customer"].implode()).alias("had"),
        (
            pl.col("customer").is_in(given["customer"].implode())
            | pl.col("customer").is_in(by_hand["customer"].implode())
        ).alias("has"),
    )
    moving = judged.filter(pl.col("had") != pl.col("has")).with_columns(
        pl.when(pl.col("had")).then(pl.lit(label)).alias("before"),
        pl.when(pl.col("has")).then(pl.lit(label)).alias("after"),
    )
    return Preview(
        customers=judged.height,
        matching=int(judged["matches"].sum()),
        gaining=int((judged["has"] & ~judged["had"]).sum()),
        losing=int((judged["had"] & ~judged["has"]).sum()),
        moving=moving.height,
        sample=_sample(moving, columns),
    )
