from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import BaseFilterBackend
from rest_framework.response import Response

from kehu.accounts import roles
from kehu.core import services as core_services
from kehu.core.api.views import api_actor, request_object
from kehu.core.changelog import history_for
from kehu.core.models import CustomFieldDefinition
from kehu.core.paging import COUNT_CAP

from .. import queries, saved_lists, services, timeline
from ..filtersets import CustomerFilterSet, index_serves, plan_list
from ..models import Address, Contact, Customer, Note, SavedList, Tag
from .serializers import (
    AddressSerializer,
    ContactSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    CustomFieldDefinitionSerializer,
    NoteSerializer,
    SavedListSerializer,
    TagSerializer,
)


class CustomerFilterBackend(DjangoFilterBackend):
    """Filters and orders the list as one plan (``filtersets.plan_list``) and leaves
    the count's query on the view for the paginator."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        filterset = self.get_filterset(request, Customer.objects.none(), view)
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        plan = plan_list(
            filterset,
            queries.customers_for_list(
                request.user, index_serves("owner_id", request.query_params.get("ordering"))
            ),
            request.query_params.get("ordering"),
            # Owners by a query of their own, as on the list page (see list_rows).
            lambda customers: customers.prefetch_related(
                "owner",
                "purchase_summary",
                Prefetch("tags", queryset=Tag.objects.only("id", "name")),
            ),
        )
        view.count_queryset = plan.count
        view.known_count = plan.count_up_to(COUNT_CAP)
        return plan.page


class CustomerOrdering(BaseFilterBackend):
    """Documents ``ordering``; ``CustomerFilterBackend`` applies it."""

    def filter_queryset(self, request, queryset, view):
        return queryset

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "ordering",
                "required": False,
                "in": "query",
                "description": "name, created_at, updated_at, status, city, province, industry, "
                "owner, birthday, employees, annual_revenue; prefix - for descending",
                "schema": {"type": "string"},
            }
        ]


@extend_schema_view(
    create=extend_schema(request=CustomerWriteSerializer),
    update=extend_schema(request=CustomerWriteSerializer),
    partial_update=extend_schema(request=CustomerWriteSerializer),
)
class CustomerViewSet(viewsets.ModelViewSet):
    """Customers the caller may see. Updates must carry the ``version`` they read."""

    serializer_class = CustomerSerializer
    filter_backends = [CustomerFilterBackend, CustomerOrdering]
    filterset_class = CustomerFilterSet

    def get_queryset(self):
        customers = queries.customers_visible_to(self.request.user)
        return customers.select_related("owner", "purchase_summary").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name"))
        )

    def create(self, request, *args, **kwargs):
        customer = services.customer_create(actor=api_actor(request), data=request_object(request))
        customer = self.get_queryset().get(pk=customer.pk)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        data = request_object(request)
        if "version" not in data:
            from django.core.exceptions import ValidationError

            raise ValidationError({"version": [_("Send the version you last read.")]})
        data = dict(data)
        version = data.pop("version")
        for read_only in ("id", "created_at", "updated_at", "owner_name"):
            data.pop(read_only, None)
        services.customer_update(
            actor=api_actor(request), customer=customer, data=data, version=version
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)

    def perform_destroy(self, instance):
        services.customer_delete(actor=api_actor(self.request), customer=instance)

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        # Deleted records keep their history readable, as the recycle bin does.
        customer = get_object_or_404(
            queries.customers_visible_to(request.user, include_deleted=True), pk=pk
        )
        entries = history_for(customer)[:200]
        return Response(
            [
                {
                    "timestamp": e.timestamp,
                    "action": e.action,
                    "object_type": e.content_type.model,
                    "object_id": e.object_id,
                    "object": e.object_repr,
                    "user": e.user.username if e.user else None,
                    "channel": e.channel,
                    "changes": e.changes,
                    "version": e.version,
                }
                for e in entries
            ]
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, description="comma-separated kinds; default all"),
            OpenApiParameter("limit", int, description="1–200, default 50"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
        ],
        responses={200: {"type": "object"}},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def timeline(self, request, pk=None):
        """Everything that happened to the customer, newest first, from every app."""
        from django.core.exceptions import ValidationError

        customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
        params = request.query_params
        errors = {}
        wanted = [k for k in (params.get("kind") or "").split(",") if k.strip()]
        unknown = sorted(set(wanted) - set(timeline.kinds()))
        if unknown:
            errors["kind"] = [
                _("Unknown kind %(kinds)s; use %(known)s.")
                % {"kinds": ", ".join(unknown), "known": ", ".join(timeline.kinds())}
            ]
        try:
            limit = int(params.get("limit", 50))
            if not 1 <= limit <= timeline.MAX_LIMIT:
                raise ValueError
        except ValueError:
            errors["limit"] = [_("Use a whole number from 1 to %(n)d.") % {"n": timeline.MAX_LIMIT}]
            limit = 50
        cursor = None
        if params.get("cursor"):
            try:
                cursor = timeline.Cursor.decode(params["cursor"])
            except ValueError:
                errors["cursor"] = [_("This is not a cursor from a previous page.")]
        if errors:
            raise ValidationError(errors)
        entries, next_cursor = timeline.page(customer, wanted or None, limit, cursor)
        return Response(
            {
                "results": [
                    {"kind": e.kind, "at": e.at, "id": e.id, "title": e.title, "detail": e.detail}
                    for e in entries
                ],
                "next_cursor": next_cursor.encode() if next_cursor else None,
            }
        )

    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        customer = get_object_or_404(
            queries.customers_visible_to(request.user, include_deleted=True), pk=pk
        )
        services.customer_restore(actor=api_actor(request), customer=customer)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
    )
    @action(detail=False, methods=["get"], url_path="recycle-bin", filter_backends=[])
    def recycle_bin(self, request):
        if not roles.can_view_recycle_bin(request.user):
            raise PermissionDenied(_("Your role may not open the recycle bin."))
        qs = (
            queries.customers_visible_to(request.user, include_deleted=True)
            .filter(deleted_at__isnull=False)
            .select_related("owner")
            .prefetch_related("tags")
            .order_by("-deleted_at", "-id")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @action(detail=False, methods=["post"], url_path="bulk-tag")
    def bulk_tag(self, request):
        data = request_object(request)
        changed = services.customers_bulk_tag(
            actor=api_actor(request),
            customer_ids=_id_list(data.get("ids")),
            add=_str_list(data.get("add")),
            remove=_str_list(data.get("remove")),
        )
        return Response({"changed": changed})

    @action(detail=False, methods=["post"], url_path="bulk-reassign")
    def bulk_reassign(self, request):
        data = request_object(request)
        changed = services.customers_bulk_reassign(
            actor=api_actor(request),
            customer_ids=_id_list(data.get("ids")),
            owner_id=data.get("owner"),
        )
        return Response({"changed": changed})


def _id_list(value) -> list:
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or not value or len(value) > 1000:
        raise ValidationError({"ids": [_("Send a list of 1 to 1000 customer ids.")]})
    return value


def _str_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    from django.core.exceptions import ValidationError

    raise ValidationError({"tags": [_("Send tag names as a list of text.")]})


class CustomerChildViewSet(viewsets.ModelViewSet):
    """Contacts and notes: visible when their customer is."""

    def visible_customer_ids(self):
        return queries.customers_visible_to(self.request.user).values("pk")

    def customer_from_body(self, data) -> Customer:
        from django.core.exceptions import ValidationError

        customer_id = data.get("customer")
        if not str(customer_id or "").isdigit():
            raise ValidationError({"customer": [_("Send the customer's id.")]})
        customer = queries.customers_visible_to(self.request.user).filter(pk=customer_id).first()
        if customer is None:
            raise ValidationError({"customer": [_("There is no customer with this id.")]})
        return customer


class ContactViewSet(CustomerChildViewSet):
    serializer_class = ContactSerializer
    filterset_fields = ["customer", "is_primary"]

    def get_queryset(self):
        return Contact.objects.filter(customer__in=self.visible_customer_ids()).order_by("id")

    def create(self, request, *args, **kwargs):
        data = request_object(request)
        contact = services.contact_create(
            actor=api_actor(request), customer=self.customer_from_body(data), data=data
        )
        return Response(self.get_serializer(contact).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        contact = self.get_object()
        data = dict(request_object(request))
        data.pop("customer", None)
        contact = services.contact_update(
            actor=api_actor(request), contact=contact, data=data, version=data.pop("version", None)
        )
        return Response(self.get_serializer(contact).data)

    def perform_destroy(self, instance):
        services.contact_delete(actor=api_actor(self.request), contact=instance)


class AddressViewSet(CustomerChildViewSet):
    serializer_class = AddressSerializer
    filterset_fields = ["customer", "kind"]

    def get_queryset(self):
        return Address.objects.filter(customer__in=self.visible_customer_ids()).order_by("id")

    def create(self, request, *args, **kwargs):
        data = request_object(request)
        address = services.address_create(
            actor=api_actor(request), customer=self.customer_from_body(data), data=data
        )
        return Response(self.get_serializer(address).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        address = self.get_object()
        data = dict(request_object(request))
        data.pop("customer", None)
        address = services.address_update(
            actor=api_actor(request), address=address, data=data, version=data.pop("version", None)
        )
        return Response(self.get_serializer(address).data)

    def perform_destroy(self, instance):
        services.address_delete(actor=api_actor(self.request), address=instance)


class NoteViewSet(CustomerChildViewSet):
    serializer_class = NoteSerializer
    filterset_fields = ["customer"]

    def get_queryset(self):
        return (
            Note.objects.filter(customer__in=self.visible_customer_ids())
            .select_related("author")
            .order_by("-created_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        data = request_object(request)
        note = services.note_create(
            actor=api_actor(request), customer=self.customer_from_body(data), body=data.get("body")
        )
        return Response(self.get_serializer(note).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        note = self.get_object()
        data = request_object(request)
        note = services.note_update(actor=api_actor(request), note=note, body=data.get("body"))
        return Response(self.get_serializer(note).data)

    def perform_destroy(self, instance):
        services.note_delete(actor=api_actor(self.request), note=instance)


class TagViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TagSerializer
    queryset = Tag.objects.order_by("name")

    def perform_create(self, serializer):
        if not roles.can_create_customers(self.request.user):
            raise PermissionDenied(_("Your role may not create tags."))
        serializer.save()


class SavedListViewSet(viewsets.ModelViewSet):
    """Saved customer lists: the caller's own and the shared ones. ``query`` is
    the customer list's query string (send it as a string or an object); open
    a list with ``GET /api/customers/?<query>`` or the page ``/customers/?<query>``."""

    serializer_class = SavedListSerializer
    queryset = SavedList.objects.none()  # for the schema; get_queryset is the caller's

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SavedList.objects.none()
        return saved_lists.lists_for(self.request.user).order_by("name", "id")

    def create(self, request, *args, **kwargs):
        saved = saved_lists.saved_list_save(actor=api_actor(request), data=request_object(request))
        return Response(self.get_serializer(saved).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        saved = saved_lists.saved_list_save(
            actor=api_actor(request), data=request_object(request), saved=self.get_object()
        )
        return Response(self.get_serializer(saved).data)

    def perform_destroy(self, instance):
        saved_lists.saved_list_delete(actor=api_actor(self.request), saved=instance)


class CustomFieldDefinitionViewSet(viewsets.ModelViewSet):
    serializer_class = CustomFieldDefinitionSerializer
    queryset = CustomFieldDefinition.objects.all()
    pagination_class = None

    def create(self, request, *args, **kwargs):
        definition = core_services.custom_field_create(
            actor=api_actor(request), data=request_object(request)
        )
        return Response(self.get_serializer(definition).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        definition = core_services.custom_field_update(
            actor=api_actor(request), definition=self.get_object(), data=request_object(request)
        )
        return Response(self.get_serializer(definition).data)

    def perform_destroy(self, instance):
        core_services.custom_field_delete(actor=api_actor(self.request), definition=instance)


def customer_from_body(request, data: dict) -> Customer:
    """The customer a request body names by ``customer`` (its id), among those the
    caller may see: 400 when it names none, 404 when the caller may not see it."""
    from django.core.exceptions import ValidationError

    customer_id = data.get("customer")
    if isinstance(customer_id, bool) or not str(customer_id or "").isdigit():
        raise ValidationError({"customer": [_("Send the customer's id.")]})
    return get_object_or_404(queries.customers_visible_to(request.user), pk=int(customer_id))
