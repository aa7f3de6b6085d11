"""Products, orders with their lines, and refunds (交易信息)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import BusinessRecord
from kehu.customers.models import Customer

LIVE = Q(deleted_at__isnull=True)


class Product(BusinessRecord):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"{self.sku} {self.name}"


class OrderStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


class Order(BusinessRecord):
    # The id the order has in the system it comes from: sending it again is a no-op.
    # Unique through a constraint in Meta, which (unlike unique=True) adds no
    # second, LIKE-pattern index on PostgreSQL.
    external_id = models.CharField(_("external id"), max_length=100)
    # No database constraint: checking it locked each order's customer row, which
    # PostgreSQL writes to (0.2 s per 2,000 orders of 2,000 customers). The
    # services admit only customers that exist and are not deleted, and Django's
    # PROTECT keeps a customer with orders from being purged.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
        db_constraint=False,
        db_index=False,  # order_customer leads with it
    )
    ordered_at = models.DateTimeField(_("ordered at"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID
    )
    # Why a cancelled order was cancelled, as the source system says it
    # ("价格太高", "缺货" …); churn analysis counts churned customers by it.
    cancel_reason = models.CharField(_("cancellation reason"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    refunded_amount = models.DecimalField(_("refunded"), max_digits=16, decimal_places=2, default=0)
    # Base-currency units per unit of ``currency`` when the order arrived.
    base_rate = models.DecimalField(max_digits=16, decimal_places=6, default=1, editable=False)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.UniqueConstraint(fields=["external_id"], name="order_external_id")]
        indexes = [
            # Not partial: purging a customer looks for their orders, deleted ones too.
            models.Index(fields=["customer", "-ordered_at", "-id"], name="order_customer"),
            models.Index(fields=["-ordered_at", "-id"], name="order_time", condition=LIVE),
        ]

    def __str__(self):
        return self.external_id

    @property
    def net_amount(self):
        return self.amount - self.refunded_amount


class OrderLine(models.Model):
    # No database constraints, as for the order's customer: lines are written only
    # by ingestion, with their new order and a product it looked up, and the
    # deferred checks of 6,000 lines' two keys took 60 ms of each batch's commit.
    # Django still cascades and protects.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", db_constraint=False
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product"),
        db_constraint=False,
        # No list reads lines by product; analytics scan them whole.
        db_index=False,
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, default=0)
    # quantity × unit price − discount, rounded to the cent.
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return f"{self.order_id}:{self.product_id}"


class Refund(BusinessRecord):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order")
    )
    external_id = models.CharField(
        _("external id"), max_length=100, unique=True, null=True, blank=True
    )
    refunded_at = models.DateTimeField(_("refunded at"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Goods came back (a return), not only money.
    is_return = models.BooleanField(_("goods returned"), default=False)

    class Meta:
        ordering = ["-refunded_at", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self):
        return f"{self.order} −{self.amount}"


class PurchaseSummary(models.Model):
    """A customer's purchase figures, kept current by the services as orders and
    refunds arrive. Amounts in the base currency (KEHU_BASE_CURRENCY), net of
    refunds; cancelled and fully refunded orders do not count.

    A table of its own, not columns of the customer: updating 2,000 customers'
    rows per batch rewrote each row and its dozen index entries (0.7 s on
    PostgreSQL); this narrow table has one index."""

    # No database constraint, as for orders: a batch's new summaries would lock
    # their customers' rows at commit.
    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="purchase_summary",
        db_constraint=False,
    )
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    total_spent = models.DecimalField(_("total spent"), max_digits=18, decimal_places=2, default=0)
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, blank=True)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase summary")
        verbose_name_plural = _("purchase summaries")

    def __str__(self):
        return f"{self.customer_id}: {self.order_count}"
