import django_filters as filters
from django.utils.translation import gettext_lazy as _

from .models import BehaviourEvent, Channel, EventType, FollowUpTask, Interaction, TaskStatus


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


class InteractionFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    channel = filters.MultipleChoiceFilter(choices=Channel.choices, label=_("channel"))
    user = filters.NumberFilter(field_name="user_id", label=_("by"))
    occurred_after = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("from")
    )
    occurred_before = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("before")
    )

    class Meta:
        model = Interaction
        fields: list[str] = []


class TaskFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    assignee = filters.NumberFilter(field_name="assignee_id", label=_("assignee"))
    status = filters.MultipleChoiceFilter(choices=TaskStatus.choices, label=_("status"))
    due_after = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte", label=_("from"))
    due_before = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label=_("before"))

    class Meta:
        model = FollowUpTask
        fields: list[str] = []
