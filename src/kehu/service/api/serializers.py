from rest_framework import serializers

from ..models import Severity, Ticket, TicketCause, TicketState, TicketType


class TicketCauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketCause
        fields = ["key", "label", "position", "active"]


class TicketSerializer(serializers.ModelSerializer):
    cause = serializers.SlugRelatedField(slug_field="key", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "customer",
            "type",
            "cause",
            "severity",
            "subject",
            "description",
            "state",
            "assignee",
            "channel",
            "opened_at",
            "due_at",
            "is_overdue",
            "resolved_at",
            "closed_at",
            "reply",
            "version",
        ]
        read_only_fields = fields


class TicketInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    type = serializers.ChoiceField(choices=TicketType.choices)
    cause = serializers.CharField(required=False, help_text="a cause key")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    subject = serializers.CharField()
    description = serializers.CharField(required=False)
    assignee = serializers.IntegerField(required=False)
    version = serializers.IntegerField(required=False, help_text="Required on update.")


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=TicketState.choices)
    assignee = serializers.IntegerField(required=False, help_text="when assigning")
    reply = serializers.CharField(
        required=False, help_text="when resolving: what the customer was told"
    )
