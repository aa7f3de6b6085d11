import django_filters as filters
from django.utils.translation import gettext_lazy as _

from .models import BehaviourEvent, EventType


class EventFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    type = filters.MultipleChoiceFilter(choices=EventType.choices, label=_("type"))
    occurred_after = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("from")
    )
    occurred_before = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("before")
    )

    class Meta:
        model = BehaviourEvent
        fields: list[str] = []
