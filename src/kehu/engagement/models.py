"""Behaviour events (行为信息): what customers do on a site or in an app."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import UnicodeJSONEncoder
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

    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    # No database constraint, as for orders (see docs/decisions.md): ingestion
    # checks that the customer exists and may be written by the caller.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
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
