from rest_framework import serializers

from ..models import (
    BehaviourEvent,
    Channel,
    Direction,
    EventType,
    FollowUpTask,
    Holiday,
    Interaction,
    Priority,
    TaskStatus,
)


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


class InteractionSerializer(serializers.ModelSerializer):
    user_name = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "contact",
            "channel",
            "direction",
            "subject",
            "content",
            "outcome",
            "occurred_at",
            "user",
            "user_name",
            "version",
            "created_at",
        ]
        read_only_fields = fields

    def get_user_name(self, obj) -> str | None:
        return str(obj.user) if obj.user_id else None


class InteractionInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    contact = serializers.IntegerField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    subject = serializers.CharField(required=False)
    content = serializers.CharField(required=False)
    outcome = serializers.CharField(required=False)
    occurred_at = serializers.DateTimeField(required=False)
    follow_up = serializers.DictField(required=False, help_text="title, due_at, assignee, priority")
    version = serializers.IntegerField(required=False, help_text="Required on update.")


class TaskSerializer(serializers.ModelSerializer):
    is_overdue = serializers.BooleanField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = FollowUpTask
        fields = [
            "id",
            "customer",
            "customer_name",
            "interaction",
            "title",
            "notes",
            "due_at",
            "remind_at",
            "assignee",
            "priority",
            "status",
            "done_at",
            "is_overdue",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class TaskInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    title = serializers.CharField()
    notes = serializers.CharField(required=False)
    due_at = serializers.DateTimeField()
    remind_at = serializers.DateTimeField(required=False, allow_null=True)
    assignee = serializers.IntegerField(required=False, help_text="Default: you.")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    version = serializers.IntegerField(required=False, help_text="Required on update.")


class TaskStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices)


class InboxSerializer(serializers.Serializer):
    overdue = TaskSerializer(many=True)
    today = TaskSerializer(many=True)
    upcoming = TaskSerializer(many=True)
    team_overdue = TaskSerializer(many=True)


class HolidaySerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    dates = serializers.SerializerMethodField()

    class Meta:
        model = Holiday
        fields = [
            "id",
            "name",
            "display_name",
            "month",
            "day",
            "dates",
            "days_ahead",
            "tag",
            "active",
            "position",
        ]
        read_only_fields = fields

    def get_dates(self, holiday) -> list[str]:
        return [d.date.isoformat() for d in holiday.dates.all()]


class HolidayInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    month = serializers.IntegerField(required=False, allow_null=True)
    day = serializers.IntegerField(required=False, allow_null=True)
    dates = serializers.ListField(
        child=serializers.DateField(), required=False, help_text="For a lunar holiday."
    )
    days_ahead = serializers.IntegerField(required=False)
    tag = serializers.IntegerField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False)
