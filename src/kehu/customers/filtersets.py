"""Customer filters, shared by the list page, the API and exports."""

from collections.abc import Callable
from typing import NamedTuple

import django_filters as filters
from django.db import connection
from django.db.models import (
    DateField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team, User
from kehu.core.models import CustomFieldDefinition, FieldType
from kehu.core.paging import COUNT_CAP

from .models import CompanySize, Customer, CustomerTag, Gender, Kind, Source, Status, Tag
from .queries import SMALL_MATCH, ListScope, search_customers, search_q

# Up to this many matches, a list page fetches them by id and sorts them. Finding
# them costs more on PostgreSQL, which reads the table for ids an index lacks and
# joins a common tag's 57,000 carriers by merge: 1,000 there (the rep + tag page:
# p50 86 -> 35 ms), 5,000 on SQLite (a rep's 1,300 customers in one city: 58 -> 23).
PLAN_THRESHOLD = {"postgresql": 1000}
DEFAULT_PLAN_THRESHOLD = 5000


def plan_threshold() -> int:
    return PLAN_THRESHOLD.get(connection.vendor, DEFAULT_PLAN_THRESHOLD)


# Filters on a column with its own index, which a walking page keeps out of reach
# unless the index also serves the order.
KEYED_COLUMNS = {
    "owner": "owner_id",
    "team": "team_id",
    "province": "province",
    "city": "city",
    "industry": "industry",
}

ORDERING_FIELDS = {
    "name": ("name_sort", "id"),
    "created_at": ("created_at", "id"),
    "updated_at": ("updated_at", "id"),
    "status": ("status", "updated_at", "id"),
    # Within a city, the most recently updated first: the city index serves both
    # this order and a city filter sorted by date.
    "city": ("city", "-updated_at", "-id"),
    "province": ("province", "city", "id"),
    "industry": ("industry", "id"),
    "owner": ("owner__username", "id"),
    "birthday": ("birthday", "id"),
    "employees": ("employees", "id"),
    "annual_revenue": ("annual_revenue", "id"),
}
DEFAULT_ORDERING = "-updated_at"


# Filters that other apps add to the customer list, its API and its export (the
# segments app: segment, class, stage, grades, dimension values). Each is called
# per filter set, its choices being data, with the parameter names in use (None:
# every filter, for the filter panel) so that it need not read what is unused,
# and returns {name: Filter}. A filter reaches its filter set as ``self.parent``.
EXTRA_FILTERS: list[Callable[[set[str] | None], dict]] = []


def register_filters(provider: Callable[[set[str] | None], dict]) -> None:
    if provider not in EXTRA_FILTERS:
        EXTRA_FILTERS.append(provider)


class ListPlan(NamedTuple):
    page: "QuerySet | RowsByIds"  # filtered and ordered, for the rows of a page
    count: QuerySet  # the same customers, written for counting them
    matches: int  # how many match, counted up to ``counted_to`` + 1 only
    counted_to: int

    def count_up_to(self, cap: int) -> int | None:
        """The number of matches as a paginator capped at ``cap`` counts it, if known."""
        if self.matches <= self.counted_to or self.counted_to >= cap:
            return min(self.matches, cap + 1)
        return None


def plan_list(filterset, scope: ListScope, ordering: str | None, rows=None) -> ListPlan:
    """A sorted page of customers, planned by how many match.

    Both databases serve ``WHERE <filters> ORDER BY <sort> LIMIT 25`` well in one
    of two ways: fetch the matches through the filters' indexes and sort them
    (best when few match), or walk the sort order's index and check each row until
    25 pass (best when many do). Which one only the number of matches tells, so the
    matching ids are collected first, through every index and up to
    ``plan_threshold()``: a few are then fetched by id and sorted; for many, the page
    query is written so that the database walks the sort order (see
    ``ordering_expressions`` and ``core.lookups``). ``rows`` adapts the page query
    (columns, prefetches).
    """
    rows = rows or (lambda queryset: queryset)
    filterset.scope_restricted = scope.restricted
    count = filterset.filtered(scope.count, "indexed")
    # The ids themselves, so that a small set is not looked up twice.
    if filterset.known_few:
        threshold = SMALL_MATCH  # found through a short list of ids: cheap to collect
    elif filterset.known_dense or filterset.order_served or scope.order_served:
        # Collecting the matches of a dense term means checking customer after
        # customer; and a walk along an index of one rep's or one city's rows in
        # the page's order fills a page soon once a thousand of them match.
        threshold = min(plan_threshold(), COUNT_CAP)
    else:
        threshold = plan_threshold()
    ids = list(count.order_by().values_list("pk", flat=True)[: threshold + 1])
    if len(ids) <= threshold:
        page = rows(Customer.objects.filter(pk__in=ids))
        page = page.order_by(*ordering_expressions(ordering, True))
        return ListPlan(page, count, len(ids), threshold)
    page = filterset.filtered(rows(scope.page), "walk")
    candidates = filterset.sorted_rows  # before sampling filters again
    if candidates and not _walk_is_cheaper(filterset, scope, ordering, candidates):
        # The matches lie far down the sort order (lost customers, newest
        # first): the filter names its candidates, and the page's ids come from
        # the sort order's index alone (no row is read until the page's own).
        # With another filter or a narrower scope the candidates are fewer than
        # their index entries: then they are found through that and sorted.
        narrowed = scope.restricted or _filters_other_than_candidates(filterset)
        found = filterset.filtered(scope.count if narrowed else scope.page, "sorted")
        found = found.order_by(*ordering_expressions(ordering, narrowed))
        page = RowsByIds(found.values_list("pk", flat=True), rows)
        return ListPlan(page, count, len(ids), threshold)
    return ListPlan(page.order_by(*ordering_expressions(ordering)), count, len(ids), threshold)


def _filters_other_than_candidates(filterset) -> bool:
    """Whether a filter in use is not one that names its candidates."""
    return any(
        value not in (None, "", [], ())
        and not getattr(filterset.filters.get(name), "names_candidates", False)
        for name, value in filterset.form.cleaned_data.items()
    )


class RowsByIds:
    """A list's customers in order, found as ids first (a query the sort
    order's index can answer alone), then read a page at a time. Slices and
    iterates like the query set it stands for."""

    CHUNK = 2000

    def __init__(self, ids: QuerySet, rows):
        self.ids = ids
        self.rows = rows

    def _read(self, ids: list[int]) -> list:
        found = {c.pk: c for c in self.rows(Customer.objects.filter(pk__in=ids))}
        return [found[pk] for pk in ids if pk in found]

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        return self._read(list(self.ids[key]))

    def __iter__(self):
        ids = list(self.ids)
        for start in range(0, len(ids), self.CHUNK):
            yield from self._read(ids[start : start + self.CHUNK])


# How far down the sort order a walking page that probes another table for each
# row (segments) looks before choosing how to find its matches.
WALK_SAMPLE = 500
PAGE_ROWS = 26
# What a walking page spends per customer it checks, against what a page by
# ids spends per candidate (PostgreSQL at a million customers: 3.3 s to walk
# 270,000; 0.1 s to find the first page of 72,000 candidates).
WALK_ROW_COST = 12
SORTED_ROW_COST = 1.5


def _walk_is_cheaper(filterset, scope: ListScope, ordering: str | None, candidates: int) -> bool:
    """Whether walking the page's order beats finding the ``candidates`` a
    probing filter names (``filterset.sorted_rows``) by id. The first
    ``WALK_SAMPLE`` customers in order that pass the filters on the customer
    table tell how densely the matches lie at the top: when they shun it (lost
    customers in a newest-first list) a walk would probe hundreds of thousands
    of rows."""
    plain = filterset.filtered(scope.page, "unprobed").order_by(*ordering_expressions(ordering))
    first = list(plain.values_list("pk", flat=True)[:WALK_SAMPLE])
    if len(first) < WALK_SAMPLE:
        return True  # the walk ends within these anyway
    # Written for walking: each of these few is probed, not found through the
    # candidates' ids.
    hits = filterset.filtered(scope.page, "walk").filter(pk__in_array=first)
    found = hits.order_by().count()
    if not found:
        return False  # where the matches start, nothing tells
    walked = PAGE_ROWS * WALK_SAMPLE / found
    return walked * WALK_ROW_COST <= candidates * SORTED_ROW_COST


# (column, ordering) pairs that one index serves together: an equality on the
# column, then the rows in that order (see Customer.Meta.indexes).
ORDER_SERVING_INDEXES = {
    ("owner_id", "updated_at"),
    ("owner_id", "name"),
    ("team_id", "updated_at"),
    ("team_id", "name"),
    ("city", "city"),
    ("city", "updated_at"),
    ("city", "name"),
    ("province", "province"),
}


def index_serves(column: str, ordering: str | None) -> bool:
    """Whether an equality filter on ``column`` and the page's order share an index."""
    key = (ordering or DEFAULT_ORDERING).lstrip("-")
    return (column, key if key in ORDERING_FIELDS else "updated_at") in ORDER_SERVING_INDEXES


def ordering_expressions(value: str | None, small_match: bool = False) -> list:
    """Translate ``?ordering=-name`` into model ordering; unknown keys fall back.

    With ``small_match`` (a few thousand matches at most) the sort keys are
    wrapped so that no index can serve them: otherwise PostgreSQL walks the sort
    index past a million rows looking for the few matches (66 ms for a phone
    fragment) instead of fetching them by key and sorting (5 ms).
    """
    names = _ordering_names(value)
    if not small_match:
        return names
    return [
        OrderBy(Coalesce(F(n.lstrip("-")), F(n.lstrip("-"))), descending=n.startswith("-"))
        for n in names
    ]


def _ordering_names(value: str | None) -> list[str]:
    value = (value or DEFAULT_ORDERING).strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    fields = ORDERING_FIELDS.get(key) or ORDERING_FIELDS["updated_at"]
    if key not in ORDERING_FIELDS:
        descending = True
    if not descending:
        return list(fields)
    # Descending reverses every part, so an index serves it read backwards.
    return [f[1:] if f.startswith("-") else "-" + f for f in fields]


class CustomerFilterSet(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    kind = filters.ChoiceFilter(choices=Kind.choices, label=_("kind"), method="filter_broad")
    # distinct=False: these filter one column, and DISTINCT over a million rows
    # would defeat every index.
    status = filters.MultipleChoiceFilter(
        choices=Status.choices, label=_("status"), distinct=False, method="filter_broad"
    )
    source = filters.MultipleChoiceFilter(
        choices=Source.choices, label=_("source"), distinct=False, method="filter_broad"
    )
    gender = filters.ChoiceFilter(
        choices=Gender.choices[1:], label=_("gender"), method="filter_broad"
    )
    company_size = filters.ChoiceFilter(
        choices=CompanySize.choices[1:], label=_("company size"), method="filter_broad"
    )
    owner = filters.ModelChoiceFilter(
        queryset=User.objects.all(), label=_("owner"), method="filter_keyed"
    )
    team = filters.ModelChoiceFilter(
        queryset=Team.objects.all(), label=_("team"), method="filter_keyed"
    )
    unassigned = filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", label=_("without owner")
    )
    tag = filters.CharFilter(method="filter_tag", label=_("tag"))
    province = filters.CharFilter(label=_("province"), method="filter_keyed")
    city = filters.CharFilter(label=_("city"), method="filter_keyed")
    district = filters.CharFilter(label=_("district"))
    country = filters.CharFilter(label=_("country"))
    industry = filters.CharFilter(label=_("industry"), method="filter_keyed")
    name = filters.CharFilter(lookup_expr="icontains", label=_("name contains"))
    company_name = filters.CharFilter(lookup_expr="icontains", label=_("company contains"))
    email = filters.CharFilter(method="filter_email", label=_("email"))
    phone = filters.CharFilter(method="filter_phone", label=_("phone"))
    credit_code = filters.CharFilter(label=_("unified social credit code"))
    id_number = filters.CharFilter(label=_("resident ID number"))
    created_after = filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("created from")
    )
    created_before = filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("created until")
    )
    updated_after = filters.DateFilter(
        field_name="updated_at", lookup_expr="date__gte", label=_("updated from")
    )
    updated_before = filters.DateFilter(
        field_name="updated_at", lookup_expr="date__lte", label=_("updated until")
    )
    birthday_after = filters.DateFilter(
        field_name="birthday", lookup_expr="gte", label=_("birthday from")
    )
    birthday_before = filters.DateFilter(
        field_name="birthday", lookup_expr="lte", label=_("birthday until")
    )
    employees_min = filters.NumberFilter(
        field_name="employees", lookup_expr="gte", label=_("employees at least")
    )
    employees_max = filters.NumberFilter(
        field_name="employees", lookup_expr="lte", label=_("employees at most")
    )
    revenue_min = filters.NumberFilter(
        field_name="annual_revenue", lookup_expr="gte", label=_("annual revenue at least")
    )
    revenue_max = filters.NumberFilter(
        field_name="annual_revenue", lookup_expr="lte", label=_("annual revenue at most")
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, data=None, *args, every_filter: bool = False, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.custom_definitions = list(CustomFieldDefinition.objects.all())
        self.filters.update(custom_field_filters(self.custom_definitions))
        names = None if every_filter else set(data or ())
        for provider in EXTRA_FILTERS:
            for name, extra in provider(names).items():
                extra.parent = self
                self.filters[name] = extra
        # How lookups are written (see ``plan_list``): "indexed" lets the database
        # reach matches through indexes; "walk" keeps the indexes of broad and keyed
        # filters out of SQLite's reach, so that it walks the page's sort order;
        # "unprobed" is "walk" without the filters that probe other tables per
        # row; "sorted" is "indexed" for a page whose matches are then sorted.
        self.plan = "indexed"
        self._memo: dict = {}

    def filtered(self, queryset, plan: str = "indexed"):
        """``queryset`` with these filters, written for ``plan``."""
        self.plan = plan
        # Set by a filter that resolved to a short list of ids (a rare search
        # term, a rare tag): then the matches are few whatever the rest does.
        self.known_few = False
        # Set by a search term that a good share of all customers match.
        self.known_dense = False
        # Set by an equality filter whose index also serves the page's order.
        self.order_served = False
        # Set by a filter that probes another table for each row when walking and
        # can name its candidates instead: how many (see ``plan_list``).
        self.sorted_rows = 0
        if self.is_bound:
            self.errors  # noqa: B018 -- validates, so that cleaned_data holds the good values
        return self.filter_queryset(queryset) if self.is_bound else queryset

    @property
    def walking(self) -> bool:
        return self.plan in ("walk", "unprobed")

    def filter_broad(self, queryset, name, value):
        """Columns with a handful of values, a match being a large share of the table."""
        values = value if isinstance(value, list | tuple) else [value]
        if not values:
            return queryset
        lookup = "unindexed_in" if self.walking else "in"
        return queryset.filter(**{f"{name}__{lookup}": list(values)})

    def filter_search(self, queryset, name, value):
        match = search_q(value, self.walking, self._memo.setdefault("search", {}))
        self.known_few = self.known_few or match.few
        self.known_dense = self.known_dense or match.dense
        return queryset.filter(match.q)

    def filter_keyed(self, queryset, name, value):
        """Equality on a column with its own index. When walking, the index stays out
        of reach unless it also serves the order (a city sorted by name)."""
        column = KEYED_COLUMNS[name]
        value = getattr(value, "pk", value)
        if not index_serves(column, self.data.get("ordering")):
            if self.walking:
                return queryset.filter(**{f"{column}__unindexed_in": [value]})
        else:
            self.order_served = True
        return queryset.filter(**{column: value})

    def filter_tag(self, queryset, name, value):
        for tag in [t.strip() for t in value.split(",") if t.strip()]:
            if ("tag", tag) not in self._memo:
                self._memo["tag", tag] = self._tag_carriers(tag)
            tag_id, few = self._memo["tag", tag]
            if tag_id is None:
                return queryset.none()
            if few is not None:
                self.known_few = True
                queryset = queryset.filter(pk__in=few)
            elif self.plan == "unprobed":
                continue  # see plan_list
            elif self.plan == "walk":
                # EXISTS per row, probing the (customer, tag) unique index, lets the
                # page walk its sort order and stop at 25; ``id IN (all carriers)``
                # made SQLite collect all 80,000 carriers of a common tag first.
                carries = CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id=tag_id)
                queryset = queryset.filter(Exists(carries))
            else:
                carriers = CustomerTag.objects.filter(tag_id=tag_id).values("customer_id")
                # With a rep's or a city's index to start from, SQLite should probe the
                # carriers as a set, not fetch each of 57,000 carriers' rows to check it.
                lookup = "pk__unindexed_in" if self._has_other_index() else "pk__in"
                queryset = queryset.filter(**{lookup: carriers})
        return queryset

    def _has_other_index(self) -> bool:
        keyed = any(self.form.cleaned_data.get(name) for name in KEYED_COLUMNS)
        return keyed or self.scope_restricted

    # Set by ``plan_list``: whether the user sees only some customers (own or team).
    scope_restricted = False
    known_few = known_dense = order_served = False
    sorted_rows = 0

    @staticmethod
    def _tag_carriers(tag: str) -> tuple[int | None, list[int] | None]:
        """A tag's id, and its carriers when they are few (else ``None``)."""
        tag_id = Tag.objects.filter(name=tag).values_list("pk", flat=True).first()
        if tag_id is None:
            return None, None
        carriers = CustomerTag.objects.filter(tag_id=tag_id).values_list("customer_id", flat=True)
        few = list(carriers[: SMALL_MATCH + 1])
        return tag_id, (few if len(few) <= SMALL_MATCH else None)

    def filter_email(self, queryset, name, value):
        return queryset.filter(emails__icontains=value.strip().lower())

    def filter_phone(self, queryset, name, value):
        return search_customers(queryset, value)


def custom_field_filters(definitions) -> dict:
    """``cf_<key>`` (and ``cf_<key>_min``/``_max`` for numbers and dates) per definition."""
    result = {}
    for d in definitions:
        name = f"cf_{d.key}"
        if d.field_type in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.DATE):
            result[name] = filters.CharFilter(method=_range_method(d, "exact"), label=d.label)
            result[name + "_min"] = filters.CharFilter(
                method=_range_method(d, "gte"), label=_("%(label)s from") % {"label": d.label}
            )
            result[name + "_max"] = filters.CharFilter(
                method=_range_method(d, "lte"), label=_("%(label)s until") % {"label": d.label}
            )
        elif d.field_type == FieldType.BOOLEAN:
            result[name] = filters.BooleanFilter(method=_bool_method(d), label=d.label)
        elif d.field_type == FieldType.MULTICHOICE:
            result[name] = filters.CharFilter(method=_multi_method(d), label=d.label)
        elif d.field_type == FieldType.CHOICE:
            result[name] = filters.CharFilter(method=_exact_method(d), label=d.label)
        else:
            result[name] = filters.CharFilter(method=_contains_method(d), label=d.label)
    return result


CAST_FIELDS = {
    FieldType.INTEGER: lambda: IntegerField(),
    FieldType.DECIMAL: lambda: DecimalField(max_digits=30, decimal_places=10),
    FieldType.DATE: lambda: DateField(),
}


def _cast_value(definition, value):
    import datetime
    import decimal

    try:
        if definition.field_type == FieldType.INTEGER:
            return int(decimal.Decimal(value))
        if definition.field_type == FieldType.DECIMAL:
            return decimal.Decimal(value)
        return datetime.date.fromisoformat(value)
    except (ValueError, ArithmeticError):
        return None


def _range_method(definition, lookup):
    def method(queryset, name, value):
        typed = _cast_value(definition, value.strip())
        if typed is None:
            return queryset.none()
        annotation = f"_cf_{definition.key}"
        expr = Cast(
            KeyTextTransform(definition.key, "custom_fields"), CAST_FIELDS[definition.field_type]()
        )
        return queryset.alias(**{annotation: expr}).filter(**{f"{annotation}__{lookup}": typed})

    return method


def _bool_method(definition):
    def method(queryset, name, value):
        if value:
            return queryset.filter(**{f"custom_fields__{definition.key}": True})
        return queryset.exclude(**{f"custom_fields__{definition.key}": True})

    return method


def _exact_method(definition):
    def method(queryset, name, value):
        return queryset.filter(**{f"custom_fields__{definition.key}": value.strip()})

    return method


def _contains_method(definition):
    def method(queryset, name, value):
        return queryset.filter(**{f"custom_fields__{definition.key}__icontains": value.strip()})

    return method


def _multi_method(definition):
    def method(queryset, name, value):
        q = Q()
        for item in [v.strip() for v in value.split(",") if v.strip()]:
            # The array's JSON text holds each choice in quotes: ["a","b"].
            q &= Q(**{f"custom_fields__{definition.key}__icontains": f'"{item}"'})
        return queryset.filter(q)

    return method
