from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object
from kehu.customers.api.views import customer_from_body

from .. import queries, services
from ..filtersets import TicketFilterSet
from ..models import TicketCause
from .serializers import (
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
