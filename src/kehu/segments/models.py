"""Classification and grading: the admins' settings of the engine (this file
grows with dimensions, rules, grades, runs and snapshots)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


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
