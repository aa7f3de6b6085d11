from rest_framework import serializers

from ..models import (
    CustomerScore,
    Dimension,
    DimensionValue,
    GradeScheme,
    ManualAssignment,
    Rule,
    SegmentRun,
)
from ..runs import FIGURE_COLUMNS, PREDICTION_COLUMNS


class ScoreSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CustomerScore
        fields = [
            "customer",
            "customer_name",
            *FIGURE_COLUMNS,
            *PREDICTION_COLUMNS,
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


class DimensionValueSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = DimensionValue
        fields = ["id", "key", "name", "display_name", "position"]
        read_only_fields = fields


class DimensionSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    values = DimensionValueSerializer(many=True, read_only=True)

    class Meta:
        model = Dimension
        fields = [
            "id",
            "key",
            "name",
            "display_name",
            "description",
            "applies_to",
            "multiple",
            "position",
            "active",
            "values",
            "updated_at",
        ]
        read_only_fields = fields


class RuleSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(
        source="value.dimension.key", read_only=True, allow_null=True, default=None
    )
    tag = serializers.CharField(source="tag.name", read_only=True, allow_null=True, default=None)
    conditions = serializers.JSONField(
        help_text='{"op": "and"|"or", "conditions": [...]} or {"field", "operator", "value"}; '
        "see docs/segments.md"
    )

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "value",
            "dimension",
            "tag",
            "conditions",
            "priority",
            "active",
            "overrides_manual",
            "updated_at",
        ]
        read_only_fields = fields


class RulePreviewSerializer(serializers.Serializer):
    customers = serializers.IntegerField(help_text="live customers evaluated")
    matching = serializers.IntegerField(help_text="whose figures meet the conditions")
    gaining = serializers.IntegerField(help_text="who would get the value or tag")
    losing = serializers.IntegerField(help_text="who would lose it")
    moving = serializers.IntegerField(help_text="whose values of the dimension would change")
    sample = serializers.ListField(
        child=serializers.DictField(),
        help_text='[{"customer", "name", "before": [...], "after": [...], "fired": {...}}]',
    )
    run = serializers.IntegerField(
        source="run.pk", allow_null=True, default=None, help_text="whose figures were used"
    )


class RuleFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="number, text or tags")
    operators = serializers.ListField(child=serializers.DictField())
    choices = serializers.ListField(child=serializers.DictField(), required=False)


class ManualAssignmentSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="value.dimension.key", read_only=True)
    value_key = serializers.CharField(source="value.key", read_only=True)

    class Meta:
        model = ManualAssignment
        fields = ["id", "customer", "dimension", "value", "value_key", "assigned_by", "assigned_at"]
        read_only_fields = fields
