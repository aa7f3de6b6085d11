import django_filters as filters
from django.utils.translation import gettext_lazy as _

from .models import Order, OrderStatus, Product


class ProductFilterSet(filters.FilterSet):
    sku = filters.CharFilter(label=_("SKU"))
    name = filters.CharFilter(lookup_expr="icontains", label=_("name contains"))
    category = filters.CharFilter(label=_("category"))
    active = filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Product
        fields: list[str] = []


class OrderFilterSet(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", label=_("customer"))
    status = filters.MultipleChoiceFilter(choices=OrderStatus.choices, label=_("status"))
    external_id = filters.CharFilter(label=_("external id"))
    ordered_after = filters.IsoDateTimeFilter(
        field_name="ordered_at", lookup_expr="gte", label=_("ordered from")
    )
    ordered_before = filters.IsoDateTimeFilter(
        field_name="ordered_at", lookup_expr="lt", label=_("ordered before")
    )

    class Meta:
        model = Order
        fields: list[str] = []
