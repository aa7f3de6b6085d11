from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object

from .. import queries, services
from ..filtersets import OrderFilterSet, ProductFilterSet
from ..models import OrderLine
from .serializers import (
    IngestResultSerializer,
    OrderBatchSerializer,
    OrderInputSerializer,
    OrderSerializer,
    ProductSerializer,
    RefundInputSerializer,
    RefundSerializer,
)


class ProductViewSet(viewsets.ModelViewSet):
    """The product catalogue; admins and managers edit it, everyone reads it."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet

    def get_queryset(self):
        return queries.products()

    def create(self, request, *args, **kwargs):
        product = services.product_create(actor=api_actor(request), data=request_object(request))
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        data = dict(request_object(request))
        version = data.pop("version", None)
        data.pop("id", None)
        product = services.product_update(
            actor=api_actor(request), product=self.get_object(), data=data, version=version
        )
        return Response(self.get_serializer(product).data)

    def perform_destroy(self, instance):
        services.product_delete(actor=api_actor(self.request), product=instance)


class OrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Orders of the customers the caller may see. ``batch`` stores up to 10,000
    orders at once, idempotent by ``external_id``."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet

    def get_queryset(self):
        lines = OrderLine.objects.select_related("product")
        return (
            queries.orders_visible_to(self.request.user)
            .prefetch_related(Prefetch("lines", queryset=lines), "refunds")
            .order_by("-ordered_at", "-id")
        )

    @extend_schema(request=OrderInputSerializer, responses={201: OrderSerializer})
    def create(self, request, *args, **kwargs):
        order = services.order_create(actor=api_actor(request), data=request_object(request))
        return Response(
            self.get_serializer(self.get_queryset().get(pk=order.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=OrderBatchSerializer, responses={200: IngestResultSerializer})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def batch(self, request):
        body = request_object(request)
        if "orders" not in body:
            raise ValidationError({"orders": [_("Send a list of orders.")]})
        result = services.order_batch_ingest(actor=api_actor(request), orders=body["orders"])
        return Response(result.as_dict())

    @extend_schema(request=RefundInputSerializer, responses={201: RefundSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def refund(self, request, pk=None):
        refund = services.refund_create(
            actor=api_actor(request), order=self.get_object(), data=request_object(request)
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)
