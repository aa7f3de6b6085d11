from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object
from kehu.customers import queries as customer_queries

from .. import queries, services
from ..filtersets import EventFilterSet
from .serializers import (
    BehaviourEventSerializer,
    EventBatchSerializer,
    EventIngestResultSerializer,
    LinkResultSerializer,
    LinkSerializer,
)


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Behaviour events of the customers the caller may see (append-only).
    ``batch`` stores up to 10,000 at once, idempotent by ``external_id``."""

    serializer_class = BehaviourEventSerializer
    filterset_class = EventFilterSet

    def get_queryset(self):
        return queries.events_visible_to(self.request.user).order_by("-occurred_at", "-id")

    @extend_schema(request=EventBatchSerializer, responses={200: EventIngestResultSerializer})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def batch(self, request):
        body = request_object(request)
        if "events" not in body:
            raise ValidationError({"events": [_("Send a list of events.")]})
        result = services.event_batch_ingest(actor=api_actor(request), events=body["events"])
        return Response(result.as_dict())

    @extend_schema(request=LinkSerializer, responses={200: LinkResultSerializer})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def link(self, request):
        """Give an anonymous visitor's events to the customer they turned out to be."""
        body = request_object(request)
        customer_id = body.get("customer")
        if isinstance(customer_id, bool) or not str(customer_id or "").isdigit():
            raise ValidationError({"customer": [_("Send the customer's id.")]})
        customer = get_object_or_404(
            customer_queries.customers_visible_to(request.user), pk=int(customer_id)
        )
        linked = services.anonymous_events_link(
            actor=api_actor(request),
            anonymous_id=str(body.get("anonymous_id") or ""),
            customer=customer,
        )
        return Response({"linked": linked})
