"""Loyalty (忠诚度): a points ledger per customer, the rule that earns points on
paid orders, and tiers.

The ledger is append-only: an entry's points, kind, time and reason never change.
A customer's balance is the sum of their entries; the account caches it in the
same transaction as every entry. Points that can be spent later (earnings,
grants, positive adjustments) carry ``remaining``, what is left of them after
redemptions, reversals and expiry took from them oldest first (FIFO); that is the
only column of an entry that is ever updated.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Channel, ShippedName
from kehu.customers.models import Customer


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    GRANT = "grant", _("Granted")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    REVERSE = "reverse", _("Reversed (refund)")
    ADJUST = "adjust", _("Adjusted")


# Kinds that count towards a tier on the points basis: what a customer earned,
# net of refunds and corrections; spending or losing points keeps the tier.
QUALIFYING = [EntryKind.EARN, EntryKind.GRANT, EntryKind.REVERSE, EntryKind.ADJUST]


class LoyaltyAccount(models.Model):
    """A customer's points, created with their first entry. ``balance`` is always
    the sum of the customer's entries; ``lifetime_points`` the sum of the
    qualifying ones (the points basis of tiers)."""

    # No database constraint, as for orders (docs/decisions.md): a batch of 10,000
    # earnings would lock every customer row it names on PostgreSQL.
    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="loyalty_account",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    lifetime_points = models.BigIntegerField(_("lifetime points"), default=0)
    updated_at = models.DateTimeField(_("updated"), null=True, blank=True)

    class Meta:
        ordering = ["customer_id"]
        verbose_name = _("loyalty account")
        verbose_name_plural = _("loyalty accounts")

    def __str__(self):
        return f"{self.customer_id}: {self.balance}"


class LoyaltyEntry(models.Model):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,  # a purged customer's ledger goes with them
        related_name="+",
        db_constraint=False,
        db_index=False,  # points_customer leads with it
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    # Signed: earnings and grants add, redemptions, expiry and reversals take.
    points = models.IntegerField(_("points"))
    # What is left of a credit (earn, grant, positive adjust); null for debits.
    remaining = models.IntegerField(_("remaining"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.SYSTEM
    )
    # Every earning of a batch names its caller: no database constraint or index,
    # which cost each batch 2,000 deferred key checks and index entries.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("by"),
    )
    occurred_at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(_("recorded"))
    # The order an earning or reversal belongs to: its id and external id as
    # plain values, since loyalty does not import sales.
    order_id = models.BigIntegerField(_("order"), null=True, blank=True)
    order_ref = models.CharField(_("order external id"), max_length=100, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # An expiry entry's credit (they go together only when the customer is purged).
    source = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # points_source, which earnings (no source) stay out of
        verbose_name=_("expired credit"),
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="points_customer"),
            models.Index(fields=["-occurred_at", "-id"], name="points_time"),
            # No index of open credits by customer or by expiry time: FIFO reads
            # a customer's few entries through points_customer, the daily expiry
            # job scans the table, and every earning skips two random index
            # entries (docs/decisions.md).
            models.Index(
                fields=["source"], name="points_source", condition=Q(source__isnull=False)
            ),
        ]
        constraints = [
            # An order earns once, whatever path announces it. Also how a refund
            # finds the order's earning; its reversals are found among the
            # customer's entries (one index fewer on every earning).
            models.UniqueConstraint(
                fields=["order_id"], condition=Q(kind="earn"), name="points_earn_once"
            ),
        ]

    def __str__(self):
        return f"{self.points:+d} {self.get_kind_display()}"


class EarnRule(ShippedName, models.Model):
    """Points for a paid order: ``points_per_unit`` for every whole ``unit_amount``
    of its amount in the base currency (1 point per ¥10), nothing below
    ``minimum_amount``. One rule is active at a time; an admin edits it."""

    name = models.CharField(_("name"), max_length=100)
    unit_amount = models.DecimalField(_("per amount"), max_digits=12, decimal_places=2)
    points_per_unit = models.PositiveIntegerField(_("points"))
    minimum_amount = models.DecimalField(
        _("minimum order amount"), max_digits=14, decimal_places=2, default=0
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-active", "id"]
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="earn_rule_one_active"
            ),
        ]

    def __str__(self):
        return self.display_name

    def points_for(self, amount) -> int:
        """Points for an order of ``amount`` (base currency): whole units only."""
        if amount < self.minimum_amount or amount <= 0:
            return 0
        return int(amount // self.unit_amount) * self.points_per_unit


class TierBasis(models.TextChoices):
    POINTS = "points", _("Lifetime points")
    SPEND = "spend", _("Total spent")


class Tier(ShippedName, models.Model):
    """A membership level (会员等级). A customer is in the highest tier (by
    position) whose threshold they reach on its basis: lifetime points earned, or
    total spent net of refunds in the base currency."""

    name = models.CharField(_("name"), max_length=50)
    basis = models.CharField(
        _("basis"), max_length=6, choices=TierBasis.choices, default=TierBasis.POINTS
    )
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2, default=0)
    benefits = models.TextField(_("benefits"), blank=True, max_length=2_000)
    position = models.PositiveIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")

    def __str__(self):
        return self.display_name

    @property
    def display_benefits(self) -> str:
        return gettext(self.benefits) if self.benefits else ""
