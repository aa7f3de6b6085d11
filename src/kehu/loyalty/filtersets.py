import django_filters as filters
from django.utils.translation import gettext_lazy as _

from .models import EntryKind, LoyaltyAccount, LoyaltyEntry


class AccountFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))

    class Meta:
        model = LoyaltyAccount
        fields: list[str] = []


class EntryFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    kind = filters.MultipleChoiceFilter(choices=EntryKind.choices, label=_("kind"))
    occurred_after = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("from")
    )
    occurred_before = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("before")
    )

    class Meta:
        model = LoyaltyEntry
        fields: list[str] = []
