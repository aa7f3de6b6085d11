from rest_framework import serializers

from .. import queries
from ..models import EarnRule, EntryKind, LoyaltyAccount, LoyaltyEntry, Tier


class TierSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Tier
        fields = ["id", "name", "display_name", "basis", "threshold", "benefits", "position"]
        read_only_fields = fields


class TierInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    basis = serializers.ChoiceField(choices=["points", "spend"], required=False)
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2)
    benefits = serializers.CharField(required=False)
    position = serializers.IntegerField(required=False)


class EarnRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = EarnRule
        fields = [
            "id",
            "name",
            "unit_amount",
            "points_per_unit",
            "minimum_amount",
            "active",
            "updated_at",
        ]
        read_only_fields = fields


class EarnRuleInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    unit_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_per_unit = serializers.IntegerField()
    minimum_amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    active = serializers.BooleanField(required=False)


class TierRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class AccountSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    total_spent = serializers.SerializerMethodField()
    tier = serializers.SerializerMethodField()
    next_tier = serializers.SerializerMethodField()

    class Meta:
        model = LoyaltyAccount
        fields = [
            "customer",
            "customer_name",
            "balance",
            "lifetime_points",
            "total_spent",
            "tier",
            "next_tier",
            "updated_at",
        ]
        read_only_fields = fields

    def _standing(self, account) -> queries.Standing:
        cache = self.context.setdefault("standings", {})
        if account.pk not in cache:
            tiers = self.context.get("tiers")
            if tiers is None:
                tiers = self.context["tiers"] = queries.tiers()
            cache[account.pk] = queries.account_standing(account, account.customer, tiers)
        return cache[account.pk]

    def get_total_spent(self, account) -> str:
        return str(queries.total_spent(account.customer))

    def get_tier(self, account) -> dict | None:
        tier = self._standing(account).tier
        return {"id": tier.pk, "name": tier.display_name} if tier else None

    def get_next_tier(self, account) -> dict | None:
        standing = self._standing(account)
        if standing.next_tier is None:
            return None
        return {
            "id": standing.next_tier.pk,
            "name": standing.next_tier.display_name,
            "basis": standing.next_tier.basis,
            "missing": str(standing.to_next),
        }


class EntrySerializer(serializers.ModelSerializer):
    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = LoyaltyEntry
        fields = [
            "id",
            "customer",
            "kind",
            "points",
            "remaining",
            "reason",
            "channel",
            "created_by",
            "created_by_name",
            "occurred_at",
            "created_at",
            "order_id",
            "order_ref",
            "expires_at",
        ]
        read_only_fields = fields

    def get_created_by_name(self, entry) -> str | None:
        return entry.created_by.username if entry.created_by_id else None


class EntryInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=[EntryKind.GRANT, EntryKind.REDEEM, EntryKind.ADJUST],
        help_text="grant, redeem; adjust for admins (signed points)",
    )
    points = serializers.IntegerField()
    reason = serializers.CharField(required=False, help_text="Required to grant or adjust.")


class EntryCreatedSerializer(EntrySerializer):
    balance = serializers.IntegerField(read_only=True)

    class Meta(EntrySerializer.Meta):
        fields = [*EntrySerializer.Meta.fields, "balance"]
        read_only_fields = fields
