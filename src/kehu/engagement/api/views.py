from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object
from kehu.customers.api.views import customer_from_body

from .. import care_services, queries, services
from ..filtersets import EventFilterSet, InteractionFilterSet, TaskFilterSet
from ..models import FollowUpTask, Holiday
from .serializers import (
    BehaviourEventSerializer,
    EventBatchSerializer,
    EventIngestResultSerializer,
    HolidayInputSerializer,
    HolidaySerializer,
    InboxSerializer,
    InteractionInputSerializer,
    InteractionSerializer,
    LinkResultSerializer,
    LinkSerializer,
    TaskInputSerializer,
    TaskSerializer,
    TaskStatusSerializer,
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
        customer = customer_from_body(request, body)
        linked = services.anonymous_events_link(
            actor=api_actor(request),
            anonymous_id=str(body.get("anonymous_id") or ""),
            customer=customer,
        )
        return Response({"linked": linked})


def _body_without(data: dict, *names) -> dict:
    return {k: v for k, v in data.items() if k not in names}


class InteractionViewSet(viewsets.ModelViewSet):
    """Calls, visits, messages … with customers the caller may see."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet

    def get_queryset(self):
        return queries.interactions_visible_to(self.request.user).order_by("-occurred_at", "-id")

    @extend_schema(request=InteractionInputSerializer, responses={201: InteractionSerializer})
    def create(self, request, *args, **kwargs):
        data = request_object(request)
        interaction = services.interaction_create(
            actor=api_actor(request),
            customer=customer_from_body(request, data),
            data=_body_without(data, "customer", "version"),
        )
        return Response(self.get_serializer(interaction).data, status=201)

    @extend_schema(request=InteractionInputSerializer, responses={200: InteractionSerializer})
    def update(self, request, *args, **kwargs):
        data = request_object(request)
        interaction = services.interaction_update(
            actor=api_actor(request),
            interaction=self.get_object(),
            data=_body_without(data, "customer", "version", "id", "user", "follow_up"),
            version=data.get("version"),
        )
        return Response(self.get_serializer(interaction).data)

    def perform_destroy(self, instance):
        services.interaction_delete(actor=api_actor(self.request), interaction=instance)


class TaskViewSet(viewsets.ModelViewSet):
    """Follow-up tasks of the customers the caller sees, and those given to the
    caller. ``inbox`` lists the caller's open tasks: overdue, today, upcoming."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema, no user
            return FollowUpTask.objects.none()
        return queries.tasks_visible_to(self.request.user).order_by("due_at", "id")

    @extend_schema(request=TaskInputSerializer, responses={201: TaskSerializer})
    def create(self, request, *args, **kwargs):
        data = request_object(request)
        task = services.task_create(
            actor=api_actor(request),
            customer=customer_from_body(request, data),
            data=_body_without(data, "customer", "version"),
        )
        return Response(self.get_serializer(task).data, status=201)

    @extend_schema(request=TaskInputSerializer, responses={200: TaskSerializer})
    def update(self, request, *args, **kwargs):
        data = request_object(request)
        task = services.task_update(
            actor=api_actor(request),
            task=self.get_object(),
            data=_body_without(data, "customer", "version", "id", "done_at", "is_overdue"),
            version=data.get("version"),
        )
        return Response(self.get_serializer(task).data)

    def perform_destroy(self, instance):
        services.task_delete(actor=api_actor(self.request), task=instance)

    @extend_schema(request=TaskStatusSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"], url_path="status", filter_backends=[])
    def set_status(self, request, pk=None):
        data = request_object(request)
        task = services.task_set_status(
            actor=api_actor(request), task=self.get_object(), status=data.get("status")
        )
        return Response(self.get_serializer(task).data)

    @extend_schema(responses={200: InboxSerializer})
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def inbox(self, request):
        buckets = queries.inbox(request.user)
        buckets["team_overdue"] = list(queries.team_overdue(request.user)[:200])
        return Response({k: TaskSerializer(v, many=True).data for k, v in buckets.items()})


class HolidayViewSet(viewsets.ModelViewSet):
    """Holidays that care reminders greet customers on; everyone reads them,
    admins edit them. A lunar holiday lists its ``dates``."""

    serializer_class = HolidaySerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Holiday.objects.prefetch_related("dates").order_by("position", "id")

    @extend_schema(request=HolidayInputSerializer, responses={201: HolidaySerializer})
    def create(self, request, *args, **kwargs):
        data = _body_without(request_object(request), "id", "display_name")
        holiday = care_services.holiday_save(actor=api_actor(request), data=data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=holiday.pk)).data, status=201
        )

    @extend_schema(request=HolidayInputSerializer, responses={200: HolidaySerializer})
    def update(self, request, *args, **kwargs):
        data = _body_without(request_object(request), "id", "display_name")
        holiday = care_services.holiday_save(
            actor=api_actor(request), holiday=self.get_object(), data=data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=holiday.pk)).data)

    def perform_destroy(self, instance):
        care_services.holiday_delete(actor=api_actor(self.request), holiday=instance)
