from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object
from kehu.customers.api.views import customer_from_body

from .. import queries, services
from ..filtersets import AccountFilterSet, EntryFilterSet
from ..models import EarnRule, LoyaltyAccount, Tier
from .serializers import (
    AccountSerializer,
    EarnRuleInputSerializer,
    EarnRuleSerializer,
    EntryCreatedSerializer,
    EntryInputSerializer,
    EntrySerializer,
    TierInputSerializer,
    TierSerializer,
)


class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Points accounts of the customers the caller may see, with balance and
    tier. An account is the customer's id; a customer without points has none."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    lookup_field = "customer"

    def get_queryset(self):
        return queries.accounts_visible_to(self.request.user).order_by("customer_id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "tiers": queries.tiers()}


class EntryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The points ledger of the customers the caller may see, newest first.
    ``POST`` grants, redeems or (admins) adjusts; entries are never changed."""

    serializer_class = EntrySerializer
    filterset_class = EntryFilterSet

    def get_queryset(self):
        return queries.entries_visible_to(self.request.user).order_by("-occurred_at", "-id")

    @extend_schema(request=EntryInputSerializer, responses={201: EntryCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = request_object(request)
        customer = customer_from_body(request, data)
        entry = services.entry_create(
            actor=api_actor(request),
            customer=customer,
            data={k: data.get(k) for k in ("kind", "points", "reason") if k in data},
        )
        entry.balance = LoyaltyAccount.objects.get(pk=customer.pk).balance
        return Response(EntryCreatedSerializer(entry).data, status=status.HTTP_201_CREATED)


def _fields(data: dict, *names) -> dict:
    return {k: v for k, v in data.items() if k not in ("id", *names)}


class TierViewSet(viewsets.ModelViewSet):
    """Membership tiers, lowest first; everyone reads them, admins edit them."""

    serializer_class = TierSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Tier.objects.order_by("position", "id")

    @extend_schema(request=TierInputSerializer, responses={201: TierSerializer})
    def create(self, request, *args, **kwargs):
        tier = services.tier_save(actor=api_actor(request), data=_fields(request_object(request)))
        return Response(self.get_serializer(tier).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TierInputSerializer, responses={200: TierSerializer})
    def update(self, request, *args, **kwargs):
        tier = services.tier_save(
            actor=api_actor(request),
            tier=self.get_object(),
            data=_fields(request_object(request), "display_name"),
        )
        return Response(self.get_serializer(tier).data)

    def perform_destroy(self, instance):
        services.tier_delete(actor=api_actor(self.request), tier=instance)


class EarnRuleViewSet(viewsets.ModelViewSet):
    """How orders earn points; the active rule applies. Admins edit rules."""

    serializer_class = EarnRuleSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return EarnRule.objects.order_by("-active", "id")

    @extend_schema(request=EarnRuleInputSerializer, responses={201: EarnRuleSerializer})
    def create(self, request, *args, **kwargs):
        rule = services.earn_rule_save(
            actor=api_actor(request), data=_fields(request_object(request), "updated_at")
        )
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EarnRuleInputSerializer, responses={200: EarnRuleSerializer})
    def update(self, request, *args, **kwargs):
        rule = services.earn_rule_save(
            actor=api_actor(request),
            rule=self.get_object(),
            data=_fields(request_object(request), "updated_at"),
        )
        return Response(self.get_serializer(rule).data)

    def destroy(self, request, *args, **kwargs):
        # Deactivate instead: the rule may have earned points people hold.
        services.earn_rule_save(
            actor=api_actor(request), rule=self.get_object(), data={"active": False}
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
