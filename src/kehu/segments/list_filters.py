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
from typing import NamedTuple

import django_filters as filters
import numpy as np
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kehu.core.lookups import Values
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

    names_candidates = True  # see customers.filtersets.plan_list

    def __init__(self, *args, scheme: str, holds, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.holds = holds

    def filter(self, qs, value):
        if not value:
            return qs
        parent = self.parent
        if parent.plan == "unprobed":
            return qs
        condition = Q()
        for label in value:
            condition |= self.holds(label)
        scores = CustomerScore.objects.filter(condition, customer_id=OuterRef("pk"))
        few = self._holders(list(value), SMALL_MATCH)
        if few is not None:
            parent.known_few = True
            return qs.filter(few.q(Exists(scores)))
        if parent.plan in ("sorted", "indexed"):
            # Matches far down the sort order (sorted), or collected to be
            # counted (indexed): a scan of the scores for a label one customer
            # in fifty holds reads 50,000 of them to find 1,000 (0.3 s on SQLite).
            most = SORTED_HOLDERS if parent.plan == "sorted" else COLLECTED_HOLDERS
            found = self._holders(list(value), most)
            if found is not None:
                return qs.filter(found.q(Exists(scores)))
        elif parent.plan == "walk":
            count = self._memoized(("count", tuple(value)), holder_count, self._snapshot(), value)
            if count is not None and count <= SORTED_HOLDERS:
                known = parent.sorted_rows
                parent.sorted_rows = min(known, count) if known else count
        return qs.filter(Exists(scores))

    def _holders(self, labels: list[str], most: int) -> "Holders | None":
        key = ("holders", tuple(labels), most)
        return self._memoized(key, holders, self._snapshot(), labels, most)

    def _snapshot(self) -> dict | None:
        return self._memoized(("snapshot",), latest_snapshot, self.scheme)

    def _memoized(self, key, function, *args):
        """Once per filter set, which filters a page more than once."""
        memo = self.parent._memo
        key = (self.scheme, *key)
        if key not in memo:
            memo[key] = function(*args)
        return memo[key]


def holder_count(snapshot: dict | None, labels: list[str]) -> int | None:
    """How many may hold one of ``labels`` now, at most (see ``holders``)."""
    if snapshot is None:
        return None
    held = sum(snapshot["counts"].get(label, 0) for label in labels)
    return held + RescoredCustomer.objects.count()


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


# Up to this many holders, a page whose matches lie far down its sort order
# finds them by id along the order's index (lost customers, newest first:
# 72,000 in 0.1 s on PostgreSQL, against 4.6 s walking; customers.filtersets).
SORTED_HOLDERS = 500_000
# Up to this many, the holders are also how the list collects its matches to
# count them (customers.filtersets.plan_list).
COLLECTED_HOLDERS = 50_000


class Holders(NamedTuple):
    kept: list[int]  # held it at the last full run and were not re-scored since
    rescored: list[int]  # re-scored since: may hold it or not

    def q(self, holds: Exists) -> Q:
        """The holders, checking the score of the re-scored only."""
        kept = Q(pk__in_array=Values(self.kept))
        if not self.rescored:
            return kept
        return kept | (Q(pk__in_array=self.rescored) & Q(holds))


def holders(snapshot: dict | None, labels: list[str], most: int) -> Holders | None:
    """Everyone who may hold one of ``labels`` now, when they are at most
    ``most``; else None. ``snapshot``: the scheme's at the last full run (none
    before a first run: nothing to start from)."""
    if snapshot is None:
        return None
    held = sum(snapshot["counts"].get(label, 0) for label in labels)
    if held > most:
        return None
    rescored = list(RescoredCustomer.objects.values_list("pk", flat=True)[: most + 1])
    if held + len(rescored) > most:
        return None
    codes = tuple(sorted(n for n, label in enumerate(snapshot["labels"]) if label in labels))
    found = _snapshot_holders(snapshot["pk"], codes) if snapshot["pk"] and codes else None
    rescored = sorted(rescored)
    if found is None:
        return Holders([], rescored)
    kept = np.setdiff1d(found, np.array(rescored, dtype=np.int64), assume_unique=True)
    return Holders(kept.tolist(), rescored)


@lru_cache(maxsize=16)
def _snapshot_holders(snapshot_pk: int, codes: tuple[int, ...]) -> np.ndarray:
    """A snapshot's customers with these codes, sorted (a snapshot never
    changes); 8 bytes a customer."""
    blobs = SegmentSnapshot.objects.filter(pk=snapshot_pk).values_list("customer_ids", "codes")
    ids_blob, codes_blob = blobs.get()
    ids = np.frombuffer(zlib.decompress(bytes(ids_blob)), dtype=np.int64)
    coded = np.frombuffer(zlib.decompress(bytes(codes_blob)), dtype=np.int8)
    return np.unique(ids[np.isin(coded, codes)])


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
