"""Classification and grading: the admins' settings of the engine (this file
grows with dimensions, rules, grades, runs and snapshots)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import JSONTextField
from kehu.core.models import AppliesTo, ShippedName


class ClassCenter(models.TextChoices):
    MEAN = "mean", _("Mean")
    MEDIAN = "median", _("Median")


class LifecycleMode(models.TextChoices):
    FIXED = "fixed", _("Fixed day thresholds")
    RHYTHM = "rhythm", _("Each customer's own purchase rhythm")


class TimeUnit(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")


class SegmentSettings(models.Model):
    """One row: how RFM, the eight classes, lifecycle and the predictions are
    computed, for ``kehu segment run`` and ``kehu analyze`` alike."""

    window_days = models.PositiveIntegerField(_("RFM window (days; 0 for all history)"), default=0)
    class_center = models.CharField(
        _("high / low against"), max_length=6, choices=ClassCenter.choices, default="mean"
    )
    lifecycle_mode = models.CharField(
        _("lifecycle thresholds"), max_length=6, choices=LifecycleMode.choices, default="fixed"
    )
    new_days = models.PositiveIntegerField(_("new for (days after the first purchase)"), default=30)
    active_days = models.PositiveIntegerField(
        _("active within (days since the last purchase)"), default=90
    )
    churn_days = models.PositiveIntegerField(
        _("churned after (days since the last purchase)"), default=180
    )
    rhythm_active = models.DecimalField(
        _("active within (purchase gaps)"),
        max_digits=5,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(0.1), MaxValueValidator(100)],
    )
    rhythm_churn = models.DecimalField(
        _("churned after (purchase gaps)"),
        max_digits=5,
        decimal_places=2,
        default=4,
        validators=[MinValueValidator(0.1), MaxValueValidator(100)],
    )
    time_unit = models.CharField(
        _("prediction time unit"), max_length=4, choices=TimeUnit.choices, default="day"
    )
    clv_months = models.PositiveIntegerField(_("lifetime value over (months)"), default=12)
    monthly_discount = models.DecimalField(
        _("monthly discount rate"), max_digits=5, decimal_places=4, default=0.01
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment settings")
        verbose_name_plural = _("segment settings")

    def __str__(self):
        return str(self._meta.verbose_name)


class GradeMethod(models.TextChoices):
    QUANTILES = "quantiles", _("Shares of customers")
    CUTOFFS = "cutoffs", _("Score cut-offs")


class GradeScheme(ShippedName, models.Model):
    """A value grading (客户分级) that admins define: weights of four factors and
    the grades, best first (``[{"label": "A", "value": 20}, …]``: a share of
    customers in percent, or a minimum score from 0 to 100)."""

    key = models.SlugField(_("key"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    method = models.CharField(
        _("grades by"), max_length=9, choices=GradeMethod.choices, default=GradeMethod.QUANTILES
    )
    weight_recency = models.DecimalField(_("weight of recency"), max_digits=5, decimal_places=2)
    weight_frequency = models.DecimalField(_("weight of frequency"), max_digits=5, decimal_places=2)
    weight_monetary = models.DecimalField(_("weight of spend"), max_digits=5, decimal_places=2)
    weight_loyalty = models.DecimalField(
        _("weight of loyalty (tenure)"), max_digits=5, decimal_places=2
    )
    grades = models.JSONField(_("grades"), default=list)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("grading scheme")
        verbose_name_plural = _("grading schemes")

    def __str__(self):
        return self.display_name

    def to_engine(self):
        from .engine import GradeScheme as EngineScheme

        return EngineScheme(
            key=self.key,
            weights={
                "recency": float(self.weight_recency),
                "frequency": float(self.weight_frequency),
                "monetary": float(self.weight_monetary),
                "loyalty": float(self.weight_loyalty),
            },
            method=self.method,
            grades=tuple((str(g["label"]), float(g["value"])) for g in self.grades),
        )


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RunTrigger(models.TextChoices):
    COMMAND = "command", _("Command")
    SCHEDULE = "schedule", _("Nightly schedule")
    ORDERS = "orders", _("New orders")
    USER = "user", _("User")


class SegmentRun(models.Model):
    """One classification of the whole base (or, for new orders, of the
    customers they touched), with the figures it found."""

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    trigger = models.CharField(_("started by"), max_length=8, choices=RunTrigger.choices)
    created_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    customers = models.PositiveIntegerField(_("customers"), default=0)
    # Sizes per scheme, the R × F matrix, fitted parameters, timings.
    stats = models.JSONField(_("figures"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("segment run")
        verbose_name_plural = _("segment runs")

    def __str__(self):
        return f"{self.as_of} ({self.get_status_display()})"


class SegmentSnapshot(models.Model):
    """Who was in which segment of one scheme after a run: customer ids and
    their segment's position in ``labels``, as compressed arrays (a million
    customers take a few MB), so migrations between runs are a join in memory."""

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="snapshots")
    scheme = models.CharField(_("scheme"), max_length=40)
    labels = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    customer_ids = models.BinaryField()
    codes = models.BinaryField()

    class Meta:
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")
        constraints = [
            models.UniqueConstraint(fields=["run", "scheme"], name="snapshot_run_scheme"),
        ]

    def __str__(self):
        return f"{self.run_id}: {self.scheme}"


class CustomerScore(models.Model):
    """A customer's figures from the latest run: RFM values and scores, segment,
    class, lifecycle and predictions, with what is needed to explain them."""

    # No database constraint: a run rewrites a million rows at once.
    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    run = models.ForeignKey(
        SegmentRun,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    as_of = models.DateField(_("as of"))
    rfm_recency_days = models.IntegerField(_("days since the last purchase"), null=True)
    rfm_frequency = models.IntegerField(_("purchases"), null=True)
    rfm_monetary = models.DecimalField(_("net spend"), max_digits=18, decimal_places=2, null=True)
    r_score = models.PositiveSmallIntegerField("R", null=True)
    f_score = models.PositiveSmallIntegerField("F", null=True)
    m_score = models.PositiveSmallIntegerField("M", null=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=20, blank=True)
    rfm_class = models.CharField(_("RFM class"), max_length=20, blank=True)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=8, blank=True)
    first_purchase = models.DateField(_("first purchase"), null=True)
    last_purchase = models.DateField(_("last purchase"), null=True)
    purchase_days = models.PositiveIntegerField(_("purchase days"), default=0)
    active_within_days = models.FloatField(_("active within (days)"), null=True)
    churned_after_days = models.FloatField(_("churned after (days)"), null=True)
    p_alive = models.FloatField(_("probability active"), null=True)
    expected_purchases_30 = models.FloatField(_("expected purchases, 30 days"), null=True)
    expected_purchases_90 = models.FloatField(_("expected purchases, 90 days"), null=True)
    expected_purchases_365 = models.FloatField(_("expected purchases, 365 days"), null=True)
    expected_spend = models.DecimalField(
        _("expected spend per purchase"), max_digits=18, decimal_places=2, null=True
    )
    clv = models.DecimalField(_("lifetime value"), max_digits=18, decimal_places=2, null=True)
    # What the customer would bring if still active, times the chance they are
    # gone: clv / p_alive * (1 - p_alive) (docs/segments.md).
    value_at_risk = models.DecimalField(
        _("value at risk"), max_digits=18, decimal_places=2, null=True
    )
    # {scheme key: {"grade": label, "score": 0-100}} for the active grading schemes.
    grades = JSONTextField(_("grades"), default=dict)
    # The customer's dimension values, as the ids of their reasons
    # (AssignmentReason): value, rule or by hand, and the values the rule read.
    dimensions = JSONTextField(_("dimensions"), default=list)
    # The same values' ids between commas (",12,40,"), for list filters: a
    # per-row test once the score is found by its key (see list_filters).
    dimension_values = models.TextField(_("dimension values"), blank=True, default="")

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        # No index on segment, class or stage: each would cost a run 1 s of its
        # 20 s, and lists join scores by customer (docs/decisions.md). The
        # at-risk list walks this one, which leaves out who risks nothing.
        indexes = [
            models.Index(
                fields=["-value_at_risk", "customer"],
                name="score_value_at_risk",
                condition=models.Q(value_at_risk__gt=0),
            )
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.rfm_segment or '-'}"


class RescoredCustomer(models.Model):
    """A customer whose score changed after the last full run wrote its
    snapshots (an incremental run, a value given by hand). With the snapshots,
    they tell the list filters every customer who may now hold a rare label,
    without an index on the scores (see list_filters). A full run takes out
    those recorded before it read its data, and re-applies the rules to the
    others (changed while it ran)."""

    customer_id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(_("re-scored"), default=timezone.now)

    class Meta:
        verbose_name = _("re-scored customer")
        verbose_name_plural = _("re-scored customers")

    def __str__(self):
        return str(self.customer_id)

    @classmethod
    def record(cls, ids) -> None:
        now = timezone.now()
        cls.objects.bulk_create(
            [cls(customer_id=pk, at=now) for pk in ids],
            update_conflicts=True,
            unique_fields=["customer_id"],
            update_fields=["at"],
        )


class ProductNeighbour(models.Model):
    """Products bought by the same customers (item-to-item co-purchase), the
    closest ``NEIGHBOURS`` of each product, rebuilt nightly."""

    product = models.ForeignKey(
        "sales.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    neighbour = models.ForeignKey(
        "sales.Product",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # Customers who bought both, and that count over the geometric mean of the
    # two products' buyers (cosine similarity).
    together = models.PositiveIntegerField()
    similarity = models.FloatField()

    class Meta:
        verbose_name = _("product neighbour")
        verbose_name_plural = _("product neighbours")
        constraints = [
            models.UniqueConstraint(fields=["product", "neighbour"], name="neighbour_pair"),
        ]

    def __str__(self):
        return f"{self.product_id} → {self.neighbour_id}"


class Dimension(ShippedName, models.Model):
    """A classification standard (分类标准) that admins keep: 客户类型, 地理位置,
    行业 … with its values, for individuals, organisations or both, one value
    per customer or several."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    applies_to = models.CharField(
        _("applies to"), max_length=12, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    multiple = models.BooleanField(_("several values per customer"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")

    def __str__(self):
        return self.display_name


class DimensionValue(ShippedName, models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="values")
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["dimension", "position", "id"]
        verbose_name = _("dimension value")
        verbose_name_plural = _("dimension values")
        constraints = [
            models.UniqueConstraint(fields=["dimension", "key"], name="dimension_value_key"),
        ]

    def __str__(self):
        return self.display_name


class Rule(ShippedName, models.Model):
    """Sets a dimension value or a tag on the customers its conditions match
    (see rules.py for the conditions). Within a single-value dimension, the
    rule with the lowest priority number wins; a manual assignment wins over
    rules unless ``overrides_manual``. A tag a rule gave is taken away again
    when no active rule for that tag matches; a tag a person gave stays."""

    name = models.CharField(_("name"), max_length=100)
    value = models.ForeignKey(
        DimensionValue,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("sets"),
    )
    tag = models.ForeignKey(
        "customers.Tag",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tags with"),
    )
    conditions = models.JSONField(_("conditions"))
    priority = models.PositiveIntegerField(_("priority"), default=100)
    active = models.BooleanField(_("active"), default=True)
    overrides_manual = models.BooleanField(_("wins over manual assignments"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__isnull=False, tag__isnull=True)
                | models.Q(value__isnull=True, tag__isnull=False),
                name="rule_sets_value_or_tag",
            )
        ]

    def __str__(self):
        return self.name


class ManualAssignment(models.Model):
    """A dimension value a person gave a customer by hand."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    value = models.ForeignKey(DimensionValue, on_delete=models.CASCADE, related_name="+")
    assigned_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned"))

    class Meta:
        verbose_name = _("manual assignment")
        verbose_name_plural = _("manual assignments")
        constraints = [
            models.UniqueConstraint(fields=["customer", "value"], name="manual_assignment_once"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.value_id}"


class AssignmentReason(models.Model):
    """Why customers have a dimension value: the rule that gave it and the
    values it read, as a run saw them (or: given by hand). Customers whose
    values fired the same rule alike share one reason, so a run writes a few
    thousand of these, not one per customer; each score lists its reasons."""

    run = models.ForeignKey(
        SegmentRun, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    value = models.ForeignKey(
        DimensionValue, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    rule = models.ForeignKey(
        Rule,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    by_hand = models.BooleanField(default=False)
    # {column: value} that the rule read and the score row does not hold
    fired = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("assignment reason")
        verbose_name_plural = _("assignment reasons")

    def __str__(self):
        return f"{self.value_id} ({'hand' if self.by_hand else self.rule_id})"
