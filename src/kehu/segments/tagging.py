"""Tags that classification rules give: each run brings every customer's
rule-given tags in line with what the active rules match, set-based, and logs
each customer whose tags changed. Tags a person gave are never taken away."""

from dataclasses import dataclass

import polars as pl
from django.db import transaction
from django.utils import timezone

from kehu.core.bulk import insert_rows
from kehu.core.changelog import Actor, log_in_bulk
from kehu.core.models import ChangeAction
from kehu.customers.models import Customer, CustomerTag, Tag

CHUNK = 10_000
LINK_SCHEMA = {"link": pl.Int64, "customer": pl.Int64, "tag": pl.Int64, "rule": pl.Int64}


@dataclass
class TagChanges:
    added: int
    removed: int
    customers: int


def _links(queryset) -> pl.DataFrame:
    rows = list(queryset.values_list("pk", "customer_id", "tag_id", "given_by_rule"))
    return pl.DataFrame(rows, schema=LINK_SCHEMA, orient="row")


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def plan(desired: pl.DataFrame, customers: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(links to add: customer, tag, rule; links to remove: link, customer,
    tag) so that the rule-given tags of ``customers`` become ``desired``
    (customer, tag, rule)."""
    only = customers.to_frame("customer")
    given = _links(CustomerTag.objects.filter(given_by_rule__isnull=False))
    given = given.join(only, on="customer", how="semi")
    remove = given.join(desired, on=["customer", "tag"], how="anti")
    tags = desired["tag"].unique().to_list()
    held = _links(CustomerTag.objects.filter(tag_id__in=tags)) if tags else given.clear()
    add = desired.join(held, on=["customer", "tag"], how="anti")
    return add.select("customer", "tag", "rule"), remove.select("link", "customer", "tag")


def _names_by_customer(ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {pk: [] for pk in ids}
    for chunk in _chunks(ids):
        for customer_id, name in CustomerTag.objects.filter(customer_id__in=chunk).values_list(
            "customer_id", "tag__name"
        ):
            names[customer_id].append(name)
    return names


def sync(desired: pl.DataFrame, customers: pl.Series, *, actor: Actor) -> TagChanges:
    """Give and take away rule-given tags of ``customers`` to match
    ``desired``; one change-log entry per customer whose tags changed."""
    add, remove = plan(desired, customers)
    if add.is_empty() and remove.is_empty():
        return TagChanges(0, 0, 0)
    touched = sorted(set(add["customer"].to_list()) | set(remove["customer"].to_list()))
    tag_names = dict(Tag.objects.values_list("pk", "name"))
    with transaction.atomic():
        before = _names_by_customer(touched)
        for chunk in _chunks(remove["link"].to_list()):
            CustomerTag.objects.filter(pk__in=chunk).delete()
        insert_rows(CustomerTag, ["customer_id", "tag_id", "given_by_rule"], add.rows())
        after = {pk: set(names) for pk, names in before.items()}
        for customer_id, tag in remove.select("customer", "tag").rows():
            after[customer_id].discard(tag_names[tag])
        for customer_id, tag, _rule in add.rows():
            after[customer_id].add(tag_names[tag])
        shown = {}
        for chunk in _chunks(touched):
            shown.update(Customer.all_objects.filter(pk__in=chunk).values_list("pk", "name"))
        log_in_bulk(
            Customer,
            ChangeAction.UPDATE,
            actor,
            (
                (pk, shown.get(pk, ""), None, {"tags": [sorted(before[pk]), sorted(after[pk])]})
                for pk in touched
            ),
            timezone.now(),
        )
    return TagChanges(add.height, remove.height, len(touched))
