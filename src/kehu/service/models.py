"""Feedback tickets (客户反馈): complaints, suggestions, praise and inquiries."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import BusinessRecord, UnicodeJSONEncoder
from kehu.customers.models import Customer


class TicketType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")
    INQUIRY = "inquiry", _("Inquiry")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# Hours to resolve a ticket by severity (the SLA); settings may override them.
DEFAULT_SLA_HOURS = {"low": 120, "normal": 72, "high": 24, "critical": 4}


def sla_hours(severity: str) -> int:
    return {**DEFAULT_SLA_HOURS, **getattr(settings, "KEHU_TICKET_SLA_HOURS", {})}[severity]


class TicketState(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Where a ticket may go from each state; reopening goes back to in progress.
TRANSITIONS = {
    TicketState.NEW: {TicketState.ASSIGNED, TicketState.IN_PROGRESS, TicketState.RESOLVED},
    TicketState.ASSIGNED: {TicketState.IN_PROGRESS, TicketState.RESOLVED, TicketState.NEW},
    TicketState.IN_PROGRESS: {TicketState.RESOLVED, TicketState.ASSIGNED},
    TicketState.RESOLVED: {TicketState.CLOSED, TicketState.IN_PROGRESS},
    TicketState.CLOSED: {TicketState.IN_PROGRESS},
}


class TicketCause(models.Model):
    """Why a customer complained (product quality, service, price, delivery …);
    admins add their own. Churn analysis groups by these."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("ticket cause")
        verbose_name_plural = _("ticket causes")

    def __str__(self):
        return self.display_label

    @property
    def display_label(self) -> str:
        """The shipped causes' labels are translated; admins' own stay as typed."""
        from django.utils.translation import gettext

        return gettext(self.label)


class Ticket(BusinessRecord):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    type = models.CharField(_("type"), max_length=12, choices=TicketType.choices)
    cause = models.ForeignKey(
        TicketCause,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cause"),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=10_000, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=TicketState.choices, default=TicketState.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assignee"),
    )
    channel = models.CharField(_("channel"), max_length=20, default="api")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # What the customer was told, recorded when the ticket is resolved.
    reply = models.TextField(_("reply to the customer"), max_length=10_000, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["customer", "-opened_at", "-id"], name="ticket_customer"),
            models.Index(
                fields=["due_at"],
                name="ticket_open_due",
                condition=models.Q(deleted_at__isnull=True)
                & models.Q(state__in=["new", "assigned", "in_progress"]),
            ),
        ]

    def __str__(self):
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.state in (TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()

    @staticmethod
    def due_for(severity: str, opened_at: datetime.datetime) -> datetime.datetime:
        return opened_at + datetime.timedelta(hours=sla_hours(severity))


class IntakeAttempt(models.Model):
    """A submission of the public feedback form, kept briefly to limit its rate."""

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip_address", "at"])]

    def __str__(self):
        return f"{self.ip_address} {self.at:%Y-%m-%d %H:%M}"


# ---- satisfaction surveys (满意度调查) ------------------------------------------------


class QuestionKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (1–5)")
    NPS = "nps", _("Recommendation (0–10, NPS)")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Free text")


# The score range of each scored kind.
SCALES = {QuestionKind.CSAT: (1, 5), QuestionKind.NPS: (0, 10)}


class Survey(BusinessRecord):
    """A questionnaire sent to customers through single-use links."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Shown to your team."))
    title = models.CharField(_("title"), max_length=200, help_text=_("Shown to the customer."))
    intro = models.TextField(_("introduction"), max_length=2000, blank=True)
    thanks = models.CharField(_("thank-you message"), max_length=500, blank=True)
    is_open = models.BooleanField(
        _("open"), default=True, help_text=_("A closed survey takes no more answers.")
    )
    # Days an invitation link stays valid.
    valid_days = models.PositiveIntegerField(_("link valid for (days)"), default=30)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self):
        return self.name


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    prompt = models.CharField(_("question"), max_length=300)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")

    def __str__(self):
        return self.prompt

    @property
    def scale(self) -> range | None:
        low_high = SCALES.get(self.kind)
        return range(low_high[0], low_high[1] + 1) if low_high else None


class SurveyInvitation(models.Model):
    """One customer's single-use link to a survey; sent after a ticket or an order
    when it names one."""

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("survey")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    # 32 random bytes: a link cannot be guessed, only received.
    token = models.CharField(max_length=64, unique=True, editable=False)
    ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("ticket"),
    )
    # A string reference: the service app does not import sales.
    order = models.ForeignKey(
        "sales.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        verbose_name=_("order"),
    )
    channel = models.CharField(_("channel"), max_length=12, default="link")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        indexes = [
            models.Index(fields=["survey", "sent_at"], name="invitation_survey_sent"),
            models.Index(fields=["customer", "-sent_at"], name="invitation_customer"),
        ]

    def __str__(self):
        return f"{self.survey_id} → {self.customer_id}"

    @property
    def is_expired(self) -> bool:
        return self.answered_at is None and self.expires_at < timezone.now()


class SurveyResponse(models.Model):
    """The answers given through one invitation; the headline scores are copied
    out of the answers so that CSAT and NPS add up without reading them."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="responses", verbose_name=_("survey")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "sales.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    csat = models.PositiveSmallIntegerField(_("CSAT"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("NPS score"), null=True, blank=True)
    # {question id: answer}, kept whole as the customer gave it.
    answers = models.JSONField(_("answers"), default=dict, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [
            models.Index(fields=["customer", "-submitted_at", "-id"], name="response_customer"),
            models.Index(fields=["survey", "submitted_at"], name="response_survey_time"),
        ]

    def __str__(self):
        return f"{self.survey_id} ← {self.customer_id}"
