from rest_framework import serializers

from ..models import BehaviourEvent, EventType


class BehaviourEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = BehaviourEvent
        fields = [
            "id",
            "external_id",
            "customer",
            "anonymous_id",
            "type",
            "occurred_at",
            "properties",
            "received_at",
        ]


class EventInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(help_text="Its id where it comes from; idempotency key.")
    customer = serializers.IntegerField(required=False, allow_null=True)
    anonymous_id = serializers.CharField(required=False, help_text="When no customer is known.")
    type = serializers.ChoiceField(choices=EventType.choices)
    occurred_at = serializers.DateTimeField()
    properties = serializers.DictField(required=False)


class EventBatchSerializer(serializers.Serializer):
    events = EventInputSerializer(many=True)


class EventIngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField())


class LinkSerializer(serializers.Serializer):
    anonymous_id = serializers.CharField()
    customer = serializers.IntegerField()


class LinkResultSerializer(serializers.Serializer):
    linked = serializers.IntegerField()
