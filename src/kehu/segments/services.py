"""Writes of the segments app: the engine settings (admins)."""

import decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.changelog import Actor
from kehu.core.records import settings_update

from .engine import EngineConfig
from .models import ClassCenter, LifecycleMode, SegmentSettings, TimeUnit
from .settings_store import ENGINE_FIELDS

WHOLE = {
    "window_days": (0, 36_500),
    "new_days": (0, 3_650),
    "active_days": (1, 3_650),
    "churn_days": (1, 36_500),
    "clv_months": (1, 120),
}
DECIMAL = {
    "rhythm_active": (decimal.Decimal("0.1"), decimal.Decimal(100)),
    "rhythm_churn": (decimal.Decimal("0.1"), decimal.Decimal(100)),
    "monthly_discount": (decimal.Decimal(0), decimal.Decimal("0.5")),
}
CHOICES = {
    "class_center": ClassCenter.values,
    "lifecycle_mode": LifecycleMode.values,
    "time_unit": TimeUnit.values,
}


def current_settings() -> SegmentSettings:
    return SegmentSettings.objects.first() or SegmentSettings.objects.create()


def _clean(data: dict, current: SegmentSettings) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for name, (low, high) in WHOLE.items():
        if name in data:
            value = str(data[name]).strip()
            if not value.isdigit() or not low <= int(value) <= high:
                errors[name] = [
                    _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
                ]
            else:
                cleaned[name] = int(value)
    for name, (low, high) in DECIMAL.items():
        if name in data:
            try:
                value = decimal.Decimal(str(data[name]).strip())
                if not value.is_finite():
                    raise decimal.InvalidOperation
            except decimal.InvalidOperation:
                errors[name] = [_("Enter a number.")]
                continue
            if not low <= value <= high:
                errors[name] = [
                    _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
                ]
            else:
                cleaned[name] = value
    for name, allowed in CHOICES.items():
        if name in data:
            if data[name] not in allowed:
                errors[name] = [_("Use one of: %(types)s.") % {"types": ", ".join(allowed)}]
            else:
                cleaned[name] = data[name]
    if errors:
        raise ValidationError(errors)
    merged = {name: cleaned.get(name, getattr(current, name)) for name in ENGINE_FIELDS}
    if merged["active_days"] >= merged["churn_days"]:
        raise ValidationError(
            {"churn_days": [_("Churned must come after active: more days than active.")]}
        )
    if merged["rhythm_active"] >= merged["rhythm_churn"]:
        raise ValidationError(
            {"rhythm_churn": [_("Churned must come after active: more gaps than active.")]}
        )
    values = {k: float(v) if isinstance(v, decimal.Decimal) else v for k, v in merged.items()}
    EngineConfig(**values)  # the engine's own checks, which the above already cover
    return cleaned


def settings_save(*, actor: Actor, data: dict) -> SegmentSettings:
    """Change the engine settings (admins); the next run uses them. Raises
    PermissionDenied or ValidationError naming the field."""
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change how customers are classified."))
    current = current_settings()
    cleaned = _clean(data, current)
    return settings_update(actor, current, cleaned, ENGINE_FIELDS)
