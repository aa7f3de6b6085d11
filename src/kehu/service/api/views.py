from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object
from kehu.core.normalize import parse_moment
from kehu.customers import queries as customer_queries
from kehu.customers.api.views import customer_from_body

from .. import queries, services, survey_queries, survey_services
from ..filtersets import SurveyInvitationFilterSet, SurveyResponseFilterSet, TicketFilterSet
from ..models import TicketCause
from .serializers import (
    InviteResultSerializer,
    InviteSerializer,
    SurveyInputSerializer,
    SurveyInvitationSerializer,
    SurveyReportRowSerializer,
    SurveyResponseSerializer,
    SurveySerializer,
    TicketCauseSerializer,
    TicketInputSerializer,
    TicketSerializer,
    TransitionSerializer,
)


class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Feedback tickets of the customers the caller may see. States change only
    through ``transition``; a move the workflow does not allow gets 400."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet

    def get_queryset(self):
        return queries.tickets_visible_to(self.request.user).order_by("-opened_at", "-id")

    @extend_schema(request=TicketInputSerializer, responses={201: TicketSerializer})
    def create(self, request, *args, **kwargs):
        data = request_object(request)
        customer = customer_from_body(request, data)
        body = {k: v for k, v in data.items() if k not in ("customer", "version")}
        ticket = services.ticket_create(actor=api_actor(request), customer=customer, data=body)
        return Response(self.get_serializer(ticket).data, status=201)

    @extend_schema(request=TicketInputSerializer, responses={200: TicketSerializer})
    def update(self, request, *args, **kwargs):
        data = request_object(request)
        body = {k: v for k, v in data.items() if k not in ("customer", "version", "id")}
        ticket = services.ticket_update(
            actor=api_actor(request),
            ticket=self.get_object(),
            data=body,
            version=data.get("version"),
        )
        return Response(self.get_serializer(ticket).data)

    @extend_schema(request=TransitionSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def transition(self, request, pk=None):
        data = request_object(request)
        ticket = services.ticket_transition(
            actor=api_actor(request),
            ticket=self.get_object(),
            to=str(data.get("to") or ""),
            data=data,
        )
        return Response(self.get_serializer(ticket).data)


class TicketCauseViewSet(viewsets.ReadOnlyModelViewSet):
    """Causes a ticket can have; admins add theirs in the admin pages."""

    serializer_class = TicketCauseSerializer
    queryset = TicketCause.objects.all()
    lookup_field = "key"
    pagination_class = None


# ---- surveys ---------------------------------------------------------------------------


def _report_params(request) -> dict:
    """period, group_by, since, until from the query string; 400 for bad ones."""
    errors: dict[str, list[str]] = {}
    params: dict = {}
    period = request.query_params.get("period") or None
    if period is not None and period not in survey_queries.PERIODS:
        errors["period"] = [
            _("Use one of: %(types)s.") % {"types": ", ".join(survey_queries.PERIODS)}
        ]
    group_by = request.query_params.get("group_by") or None
    if group_by is not None and group_by not in survey_queries.GROUPS:
        errors["group_by"] = [
            _("Use one of: %(types)s.") % {"types": ", ".join(survey_queries.GROUPS)}
        ]
    for name in ("since", "until"):
        text = request.query_params.get(name)
        if text:
            try:
                params[name] = parse_moment(text)
            except ValueError as error:
                errors[name] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return {**params, "period": period, "group_by": group_by}


REPORT_PARAMETERS = [
    OpenApiParameter("period", str, enum=list(survey_queries.PERIODS)),
    OpenApiParameter("group_by", str, enum=list(survey_queries.GROUPS)),
    OpenApiParameter("since", str, description="ISO date or time"),
    OpenApiParameter("until", str, description="ISO date or time (exclusive)"),
]


class SurveyViewSet(viewsets.ModelViewSet):
    """Satisfaction surveys with their questions. ``invite`` makes single-use
    answer links for customers; ``report`` adds up response rate, CSAT and NPS
    over the customers the caller may see, per period and customer group."""

    serializer_class = SurveySerializer

    def get_queryset(self):
        return survey_queries.surveys_for(self.request.user).prefetch_related("questions")

    @extend_schema(request=SurveyInputSerializer, responses={201: SurveySerializer})
    def create(self, request, *args, **kwargs):
        data = request_object(request)
        survey = survey_services.survey_create(actor=api_actor(request), data=data)
        return Response(self.get_serializer(survey).data, status=201)

    @extend_schema(request=SurveyInputSerializer, responses={200: SurveySerializer})
    def update(self, request, *args, **kwargs):
        data = request_object(request)
        body = {k: v for k, v in data.items() if k in (*survey_services.SURVEY_FIELDS, "questions")}
        survey = survey_services.survey_update(
            actor=api_actor(request),
            survey=self.get_object(),
            data=body,
            version=data.get("version"),
        )
        return Response(self.get_serializer(survey).data)

    def perform_destroy(self, instance):
        survey_services.survey_delete(actor=api_actor(self.request), survey=instance)

    @extend_schema(request=InviteSerializer, responses={200: InviteResultSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def invite(self, request, pk=None):
        """Links for one customer (``customer``) or many (``customers``, up to 1,000).
        A customer the caller may not survey is rejected with its index; the others
        get their links. Asking again gives the pending link back."""
        data = request_object(request)
        survey = self.get_object()
        if "customers" in data:
            ids = data["customers"]
            if not isinstance(ids, list) or not ids:
                raise ValidationError({"customers": [_("Send a list of customer ids.")]})
            if len(ids) > survey_services.MAX_INVITATIONS:
                raise ValidationError(
                    {
                        "customers": [
                            _("At most %(n)d customers at once.")
                            % {"n": survey_services.MAX_INVITATIONS}
                        ]
                    }
                )
        else:
            ids = [customer_from_body(request, data).pk]
        visible = {
            c.pk: c
            for c in customer_queries.customers_visible_to(request.user).filter(
                pk__in=[i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
            )
        }
        made, rejected = [], []
        for index, customer_id in enumerate(ids):
            customer = visible.get(customer_id) if isinstance(customer_id, int) else None
            if customer is None:
                rejected.append(
                    {
                        "index": index,
                        "errors": {"customer": [_("There is no customer with this id.")]},
                    }
                )
                continue
            try:
                made.append(
                    survey_services.invitation_create(
                        actor=api_actor(request),
                        survey=survey,
                        customer=customer,
                        ticket=data.get("ticket"),
                        order=data.get("order"),
                        channel=data.get("channel") or "link",
                    )
                )
            except PermissionDenied as error:
                rejected.append({"index": index, "errors": {"customer": [str(error)]}})
            except ValidationError as error:
                if "customers" not in data:
                    raise
                rejected.append({"index": index, "errors": error.message_dict})
        if "customers" not in data and rejected:
            raise PermissionDenied(rejected[0]["errors"]["customer"][0])
        context = {**self.get_serializer_context(), "show_links": True}
        return Response(
            {
                "invitations": SurveyInvitationSerializer(made, many=True, context=context).data,
                "rejected": rejected,
            }
        )

    @extend_schema(
        parameters=REPORT_PARAMETERS, responses={200: SurveyReportRowSerializer(many=True)}
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def report(self, request, pk=None):
        rows = survey_queries.survey_report(
            request.user, survey=self.get_object(), **_report_params(request)
        )
        return Response(rows)

    @extend_schema(
        operation_id="surveys_report_all",
        parameters=REPORT_PARAMETERS,
        responses={200: SurveyReportRowSerializer(many=True)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="report",
        url_name="report-all",
        filter_backends=[],
        pagination_class=None,
    )
    def report_all(self, request):
        """The same figures over every survey."""
        return Response(survey_queries.survey_report(request.user, **_report_params(request)))


class SurveyInvitationViewSet(viewsets.ReadOnlyModelViewSet):
    """Invitations sent to the customers the caller may see; the answer link shows
    to callers who may send surveys, while it still works."""

    serializer_class = SurveyInvitationSerializer
    filterset_class = SurveyInvitationFilterSet

    def get_queryset(self):
        return survey_queries.invitations_visible_to(self.request.user).order_by("-sent_at", "-id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["show_links"] = survey_services.can_send_surveys(self.request.user)
        return context


class SurveyResponseViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers of the customers the caller may see."""

    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilterSet

    def get_queryset(self):
        return survey_queries.responses_visible_to(self.request.user).order_by(
            "-submitted_at", "-id"
        )
