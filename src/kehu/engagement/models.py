"""Behaviour events (行为信息), interactions (沟通记录) and follow-up tasks."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import BusinessRecord, UnicodeJSONEncoder
from kehu.customers.models import Customer


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view", _("Page view")
    CLICK = "click", _("Click")
    ADD_TO_CART = "add_to_cart", _("Add to cart")
    SEARCH = "search", _("Search")
    DOWNLOAD = "download", _("Download")
    SIGN_UP = "sign_up", _("Sign-up")
    LOGIN = "login", _("Login")
    CHECKOUT = "checkout", _("Checkout")
    OTHER = "other", _("Other")


class BehaviourEvent(models.Model):
    """Append-only: events are stored as they came and never edited. An event of
    an anonymous visitor (``anonymous_id``) gets its customer when the visitor is
    identified."""

    # Unique through a constraint in Meta: no second, LIKE-pattern index.
    external_id = models.CharField(_("external id"), max_length=100)
    # No database constraint, as for orders (see docs/decisions.md): ingestion
    # checks that the customer exists and may be written by the caller.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,  # a purged customer's events go with it
        related_name="+",
        db_constraint=False,
        db_index=False,  # event_customer leads with it
        verbose_name=_("customer"),
    )
    anonymous_id = models.CharField(_("anonymous id"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=EventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    properties = models.JSONField(
        _("properties"), default=dict, blank=True, encoder=UnicodeJSONEncoder
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("behaviour event")
        verbose_name_plural = _("behaviour events")
        constraints = [models.UniqueConstraint(fields=["external_id"], name="event_external_id")]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="event_customer"),
            models.Index(
                fields=["anonymous_id"],
                name="event_anonymous",
                condition=models.Q(customer__isnull=True) & ~models.Q(anonymous_id=""),
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.external_id}"


class EngagementSummary(models.Model):
    """When a customer was last seen; kept by the ingestion service."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="engagement_summary"
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    event_count = models.PositiveIntegerField(_("events"), default=0)

    class Meta:
        verbose_name = _("engagement summary")
        verbose_name_plural = _("engagement summaries")

    def __str__(self):
        return f"{self.customer_id}: {self.last_seen_at}"


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    VISIT = "visit", _("Visit / meeting")
    WECHAT = "wechat", _("WeChat")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social media")
    WEB_FORM = "web_form", _("Web form")
    OTHER = "other", _("Other")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Interaction(BusinessRecord):
    """A conversation with a customer (沟通记录) on any channel."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("contact"),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    content = models.TextField(_("content"), blank=True, max_length=10_000)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(
                fields=["customer", "-occurred_at", "-id"],
                name="interaction_customer",
                condition=models.Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.subject or self.get_channel_display()


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUpTask(BusinessRecord):
    """A follow-up (跟进任务): what to do for a customer, by whom, by when."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("customer")
    )
    interaction = models.ForeignKey(
        Interaction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        verbose_name=_("after interaction"),
    )
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True, max_length=5_000)
    due_at = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    # When the reminder went out (kehu worker); set back when remind_at changes.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="follow_up_tasks",
        verbose_name=_("assignee"),
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [
            models.Index(
                fields=["assignee", "due_at"],
                name="task_open_assignee",
                condition=models.Q(deleted_at__isnull=True, status="open"),
            ),
            models.Index(
                fields=["customer", "due_at"],
                name="task_customer",
                condition=models.Q(deleted_at__isnull=True),
            ),
            # The reminders still to send.
            models.Index(
                fields=["remind_at"],
                name="task_reminder_pending",
                condition=models.Q(
                    deleted_at__isnull=True,
                    status="open",
                    remind_at__isnull=False,
                    reminded_at__isnull=True,
                ),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_at < timezone.now()


class Holiday(models.Model):
    """A day to greet customers on (节日关怀). A fixed-date holiday gives its month
    and day; a lunar one (春节, 中秋节) falls on another day each year and lists
    its dates instead. Care tasks go to the owners of active customers (those
    with ``tag`` when one is set), ``days_ahead`` days before."""

    name = models.CharField(_("name"), max_length=100)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    days_ahead = models.PositiveSmallIntegerField(_("days ahead"), default=3)
    tag = models.ForeignKey(
        "customers.Tag",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("only customers tagged"),
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """The shipped holidays' names are translated; admins' own stay as typed."""
        from django.utils.translation import gettext

        return gettext(self.name)

    @property
    def is_fixed(self) -> bool:
        return self.month is not None and self.day is not None


class HolidayDate(models.Model):
    """A date a lunar (or otherwise moving) holiday falls on."""

    holiday = models.ForeignKey(
        Holiday, on_delete=models.CASCADE, related_name="dates", verbose_name=_("holiday")
    )
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday date")
        verbose_name_plural = _("holiday dates")
        constraints = [
            models.UniqueConstraint(fields=["holiday", "date"], name="holiday_date_unique")
        ]
        indexes = [models.Index(fields=["date"], name="holiday_date")]

    def __str__(self):
        return f"{self.holiday} {self.date}"


class CareReminder(models.Model):
    """That a care task was created for a customer's occasion in a year: what
    keeps the reminders job from creating a second one. ``occasion`` is
    ``birthday`` or ``holiday:<id>``."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    occasion = models.CharField(_("occasion"), max_length=40)
    year = models.PositiveSmallIntegerField(_("year"))
    date = models.DateField(_("date"))
    task = models.ForeignKey(
        FollowUpTask,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("task"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("care reminder")
        verbose_name_plural = _("care reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "occasion", "year"], name="care_reminder_once"
            )
        ]

    def __str__(self):
        return f"{self.customer_id} {self.occasion} {self.year}"
