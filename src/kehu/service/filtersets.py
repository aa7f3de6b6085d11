import django_filters as filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Severity, SurveyInvitation, SurveyResponse, Ticket, TicketState, TicketType


class TicketFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    type = filters.MultipleChoiceFilter(choices=TicketType.choices, label=_("type"))
    state = filters.MultipleChoiceFilter(choices=TicketState.choices, label=_("state"))
    severity = filters.MultipleChoiceFilter(choices=Severity.choices, label=_("severity"))
    cause = filters.CharFilter(field_name="cause__key", label=_("cause"))
    assignee = filters.NumberFilter(field_name="assignee_id", label=_("assignee"))
    overdue = filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        late = {"state__in": ["new", "assigned", "in_progress"], "due_at__lt": timezone.now()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class SurveyInvitationFilterSet(filters.FilterSet):
    survey = filters.NumberFilter(field_name="survey_id", label=_("survey"))
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    ticket = filters.NumberFilter(field_name="ticket_id", label=_("ticket"))
    answered = filters.BooleanFilter(
        field_name="answered_at", lookup_expr="isnull", exclude=True, label=_("answered")
    )

    class Meta:
        model = SurveyInvitation
        fields: list[str] = []


class SurveyResponseFilterSet(filters.FilterSet):
    survey = filters.NumberFilter(field_name="survey_id", label=_("survey"))
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    ticket = filters.NumberFilter(field_name="ticket_id", label=_("ticket"))
    order = filters.NumberFilter(field_name="order_id", label=_("order"))
    submitted_after = filters.IsoDateTimeFilter(
        field_name="submitted_at", lookup_expr="gte", label=_("submitted after")
    )
    submitted_before = filters.IsoDateTimeFilter(
        field_name="submitted_at", lookup_expr="lt", label=_("submitted before")
    )

    class Meta:
        model = SurveyResponse
        fields: list[str] = []
