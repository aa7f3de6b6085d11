from rest_framework import serializers

from ..models import CustomerScore, GradeScheme, SegmentRun


class ScoreSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CustomerScore
        fields = [
            "customer",
            "customer_name",
            "as_of",
            "rfm_recency_days",
            "rfm_frequency",
            "rfm_monetary",
            "r_score",
            "f_score",
            "m_score",
            "rfm_segment",
            "rfm_class",
            "lifecycle_stage",
            "first_purchase",
            "last_purchase",
            "purchase_days",
            "active_within_days",
            "churned_after_days",
            "p_alive",
            "expected_purchases_30",
            "expected_purchases_90",
            "expected_purchases_365",
            "expected_spend",
            "clv",
            "run",
        ]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "as_of",
            "status",
            "trigger",
            "customers",
            "stats",
            "error",
        ]


class MigrationSerializer(serializers.Serializer):
    scheme = serializers.CharField()
    earlier = serializers.IntegerField(help_text="the run compared with")
    later = serializers.IntegerField()
    moves = serializers.ListField(
        child=serializers.DictField(),
        help_text='[{"from": segment or null, "to": segment or null, "customers": n}]',
    )


class GradeSchemeSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = GradeScheme
        fields = [
            "id",
            "key",
            "name",
            "display_name",
            "method",
            "weight_recency",
            "weight_frequency",
            "weight_monetary",
            "weight_loyalty",
            "grades",
            "active",
            "position",
            "updated_at",
        ]
        read_only_fields = fields
