from django.urls import reverse
from rest_framework import serializers

from ..models import (
    QuestionKind,
    Severity,
    Survey,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    Ticket,
    TicketCause,
    TicketState,
    TicketType,
)


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


# ---- surveys ----------------------------------------------------------------------------


class SurveyQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyQuestion
        fields = ["id", "position", "kind", "prompt", "choices", "required"]
        read_only_fields = fields


class SurveySerializer(serializers.ModelSerializer):
    questions = SurveyQuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "name",
            "title",
            "intro",
            "thanks",
            "is_open",
            "valid_days",
            "questions",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class SurveyQuestionInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="a kept question's id (on update)")
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    prompt = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    required = serializers.BooleanField(required=False, default=True)


class SurveyInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField(required=False)
    thanks = serializers.CharField(required=False)
    is_open = serializers.BooleanField(required=False)
    valid_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    questions = SurveyQuestionInputSerializer(many=True)
    version = serializers.IntegerField(required=False, help_text="Required on update.")


class SurveyInvitationSerializer(serializers.ModelSerializer):
    link = serializers.SerializerMethodField()
    answered = serializers.SerializerMethodField()

    class Meta:
        model = SurveyInvitation
        fields = [
            "id",
            "survey",
            "customer",
            "ticket",
            "order",
            "channel",
            "sent_by",
            "sent_at",
            "expires_at",
            "answered_at",
            "answered",
            "link",
        ]
        read_only_fields = fields

    def get_answered(self, invitation) -> bool:
        return invitation.answered_at is not None

    def get_link(self, invitation) -> str | None:
        """The answer page's address; only for callers who send surveys, and only
        while the link still works."""
        request = self.context.get("request")
        if request is None or not self.context.get("show_links"):
            return None
        if invitation.answered_at is not None or invitation.is_expired:
            return None
        return request.build_absolute_uri(reverse("survey-answer", args=[invitation.token]))


class InviteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, help_text="one customer")
    customers = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="or up to 1,000 customers"
    )
    ticket = serializers.IntegerField(required=False, help_text="the ticket the survey follows")
    order = serializers.IntegerField(required=False, help_text="the order the survey follows")
    channel = serializers.CharField(required=False, help_text="how the link is sent (link, sms …)")


class InviteResultSerializer(serializers.Serializer):
    invitations = SurveyInvitationSerializer(many=True)
    rejected = serializers.ListField(child=serializers.DictField())


class SurveyResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "survey",
            "invitation",
            "customer",
            "ticket",
            "order",
            "submitted_at",
            "csat",
            "nps",
            "answers",
        ]
        read_only_fields = fields


class SurveyReportRowSerializer(serializers.Serializer):
    period = serializers.CharField(required=False)
    group = serializers.CharField(required=False)
    invitations = serializers.IntegerField()
    answered = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    responses = serializers.IntegerField()
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField()
    csat = serializers.FloatField(allow_null=True, help_text="% of CSAT answers that are 4 or 5")
    csat_average = serializers.FloatField(allow_null=True)
    nps_responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    nps = serializers.FloatField(allow_null=True, help_text="% promoters − % detractors")
