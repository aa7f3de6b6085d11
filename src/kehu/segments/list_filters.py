"""Customer-list filters on the latest scores: RFM segment, RFM class,
lifecycle stage, each active grading scheme and each active dimension. They
serve the list page, its API and its export (``customers.filtersets``).

Scores carry no index on these labels: each would cost the nightly run its
build (docs/decisions.md). A filter finds its customers in one of two ways:

- a label held by many: the page walks its sort order and probes each
  customer's score by its key (``EXISTS``), which fills a page within a few
  hundred customers;
- a label held by few (by the last full run's snapshot): its holders are the
  snapshot's customers with that label plus the customers re-scored since
  (``RescoredCustomer``), each checked against their score. That is exact: a
  score changes only in a full run, which writes the snapshots, or in a
  re-scoring, which records the customer.
"""

import json
import zlib
from functools import lru_cache

import django_filters as filters
import numpy as np
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kehu.customers.queries import SMALL_MATCH

from .labels import CLASSES, SEGMENTS, STAGES
from .models import (
    CustomerScore,
    Dimension,
    GradeScheme,
    RescoredCustomer,
    RunStatus,
    RunTrigger,
    SegmentRun,
    SegmentSnapshot,
)


class ScoreLabelFilter(filters.MultipleChoiceFilter):
    """Customers whose latest score holds any of the chosen labels of one
    scheme (a snapshot's ``scheme``); ``holds`` turns a label into a condition
    on the score."""

    def __init__(self, *args, scheme: str, holds, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.holds = holds

    def filter(self, qs, value):
        if not value:
            return qs
        condition = Q()
        for label in value:
            condition |= self.holds(label)
        scores = CustomerScore.objects.filter(condition, customer_id=OuterRef("pk"))
        few = few_holders(self.scheme, list(value))
        if few is not None:
            self.parent.known_few = True
            qs = qs.filter(pk__in_array=few)
        return qs.filter(Exists(scores))


def latest_snapshot(scheme: str) -> dict | None:
    """The last full run's snapshot of ``scheme``: pk, labels and counts."""
    run = (
        SegmentRun.objects.filter(status=RunStatus.DONE)
        .exclude(trigger=RunTrigger.ORDERS)
        .order_by("-started_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if run is None:
        return None
    return (
        SegmentSnapshot.objects.filter(run_id=run, scheme=scheme)
        .values("pk", "labels", "counts")
        .first()
    ) or {"pk": None, "labels": [], "counts": {}}


def few_holders(scheme: str, labels: list[str]) -> list[int] | None:
    """Everyone who may hold one of ``labels`` now, when they are few; else
    None. Without a full run there is no snapshot to start from."""
    snapshot = latest_snapshot(scheme)
    if snapshot is None:
        return None
    held = sum(snapshot["counts"].get(label, 0) for label in labels)
    if held > SMALL_MATCH:
        return None
    rescored = list(RescoredCustomer.objects.values_list("pk", flat=True)[: SMALL_MATCH + 1])
    if held + len(rescored) > SMALL_MATCH:
        return None
    codes = tuple(sorted(n for n, label in enumerate(snapshot["labels"]) if label in labels))
    found = set(_snapshot_holders(snapshot["pk"], codes)) if snapshot["pk"] and codes else set()
    return sorted(found.union(rescored))


@lru_cache(maxsize=64)
def _snapshot_holders(snapshot_pk: int, codes: tuple[int, ...]) -> tuple[int, ...]:
    """A snapshot's customers with these codes (a snapshot never changes)."""
    blobs = SegmentSnapshot.objects.filter(pk=snapshot_pk).values_list("customer_ids", "codes")
    ids_blob, codes_blob = blobs.get()
    ids = np.frombuffer(zlib.decompress(bytes(ids_blob)), dtype=np.int64)
    coded = np.frombuffer(zlib.decompress(bytes(codes_blob)), dtype=np.int8)
    return tuple(int(i) for i in np.unique(ids[np.isin(coded, codes)]))


def _column_is(column: str):
    return lambda label: Q(**{column: label})


def _grade_is(scheme_key: str):
    """The grades text as a run writes it: ``{"<key>":{"grade":"A","score":…}}``."""

    def holds(label: str) -> Q:
        text = f'"{scheme_key}":{{"grade":{json.dumps(label, ensure_ascii=False)},'
        return Q(grades__has_text=text)

    return holds


def _value_is(values: dict[str, int]):
    def holds(key: str) -> Q:
        return Q(dimension_values__has_text=f",{values[key]},")

    return holds


def score_filters(names: set[str] | None = None) -> dict:
    """The filters, for ``customers.filtersets.register_filters``: all, or
    those of grades and dimensions only when ``names`` has one."""
    found = {
        "rfm_segment": ScoreLabelFilter(
            scheme="rfm_segment",
            holds=_column_is("rfm_segment"),
            choices=list(SEGMENTS.items()),
            label=_("RFM segment"),
        ),
        "rfm_class": ScoreLabelFilter(
            scheme="rfm_class",
            holds=_column_is("rfm_class"),
            choices=list(CLASSES.items()),
            label=_("RFM class"),
        ),
        "lifecycle_stage": ScoreLabelFilter(
            scheme="lifecycle_stage",
            holds=_column_is("lifecycle_stage"),
            choices=list(STAGES.items()),
            label=_("Lifecycle stage"),
        ),
    }
    if names is not None and not any(n.startswith("grade_") for n in names):
        return found | _dimension_filters(names)
    for scheme in GradeScheme.objects.filter(active=True):
        labels = [str(grade["label"]) for grade in scheme.grades]
        found[f"grade_{scheme.key}"] = ScoreLabelFilter(
            scheme=f"grade:{scheme.key}",
            holds=_grade_is(scheme.key),
            choices=[(label, label) for label in labels],
            label=scheme.display_name,
        )
    return found | _dimension_filters(names)


def _dimension_filters(names: set[str] | None) -> dict:
    if names is not None and not any(n.startswith("dim_") for n in names):
        return {}
    found = {}
    for dimension in Dimension.objects.filter(active=True).prefetch_related("values"):
        values = list(dimension.values.all())
        found[f"dim_{dimension.key}"] = ScoreLabelFilter(
            scheme=f"dimension:{dimension.key}",
            holds=_value_is({v.key: v.pk for v in values}),
            choices=[(v.key, v.display_name) for v in values],
            label=dimension.display_name,
        )
    return found
