"""Customer filters, shared by the list page, the API and exports."""

import django_filters as filters
from django.db.models import (
    DateField,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team, User
from kehu.core.models import CustomFieldDefinition, FieldType

from .models import CompanySize, Customer, CustomerTag, Gender, Kind, Source, Status, Tag
from .queries import search_customers, search_customers_planned

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


def ordering_expressions(value: str | None, small_match: bool = False) -> list:
    """Translate ``?ordering=-name`` into model ordering; unknown keys fall back.

    With ``small_match`` (a search resolved to a few thousand ids at most) the
    sort keys are wrapped so that no index can serve them: otherwise PostgreSQL
    walks the sort index past a million rows looking for the few matches (66 ms
    for a phone fragment) instead of fetching them by key and sorting (5 ms).
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
    owner = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("owner"))
    team = filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("team"))
    unassigned = filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", label=_("without owner")
    )
    tag = filters.CharFilter(method="filter_tag", label=_("tag"))
    province = filters.CharFilter(label=_("province"))
    city = filters.CharFilter(label=_("city"))
    district = filters.CharFilter(label=_("district"))
    country = filters.CharFilter(label=_("country"))
    industry = filters.CharFilter(label=_("industry"))
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

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.custom_definitions = list(CustomFieldDefinition.objects.all())
        self.filters.update(custom_field_filters(self.custom_definitions))

    def filter_broad(self, queryset, name, value):
        """Columns with a handful of values: a match is a large share of the table,
        so the page is served best by scanning the sort order (see core.lookups)."""
        values = value if isinstance(value, list | tuple) else [value]
        if not values:
            return queryset
        return queryset.filter(**{f"{name}__unindexed_in": list(values)})

    small_match = False

    def filter_search(self, queryset, name, value):
        queryset, self.small_match = search_customers_planned(queryset, value)
        return queryset

    def filter_tag(self, queryset, name, value):
        # EXISTS per row, probing the (customer, tag) unique index, lets the page
        # walk its sort order and stop at 25; ``id IN (all carriers)`` made SQLite
        # collect all 80,000 carriers of a common tag first (100 ms).
        for tag in [t.strip() for t in value.split(",") if t.strip()]:
            tag_id = Tag.objects.filter(name=tag).values_list("pk", flat=True).first()
            if tag_id is None:
                return queryset.none()
            carries = CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id=tag_id)
            queryset = queryset.filter(Exists(carries))
        return queryset

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
