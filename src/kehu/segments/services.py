"""Writes of the segments app: the engine settings (admins)."""

import decimal
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import ChangeAction
from kehu.core.records import settings_update

from .engine import EngineConfig
from .models import (
    ClassCenter,
    GradeMethod,
    GradeScheme,
    LifecycleMode,
    SegmentSettings,
    TimeUnit,
)
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


# ---- grading schemes -------------------------------------------------------------

SCHEME_FIELDS = [
    "key",
    "name",
    "method",
    "weight_recency",
    "weight_frequency",
    "weight_monetary",
    "weight_loyalty",
    "grades",
    "active",
    "position",
]
WEIGHTS = ["weight_recency", "weight_frequency", "weight_monetary", "weight_loyalty"]
MAX_GRADES = 10


def _clean_grades(value, method: str, errors: dict) -> list | None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_GRADES:
        errors["grades"] = [_("Send 1 to %(n)d grades, best first.") % {"n": MAX_GRADES}]
        return None
    grades = []
    for item in value:
        label = str(item.get("label", "")).strip() if isinstance(item, dict) else ""
        if not label or len(label) > 20 or not label.isprintable() or "\\" in label:
            errors["grades"] = [_("Each grade needs a label of up to 20 plain characters.")]
            return None
        try:
            number = decimal.Decimal(str(item.get("value")).strip())
            if not number.is_finite() or not 0 <= number <= 100:
                raise decimal.InvalidOperation
        except (decimal.InvalidOperation, ValueError):
            errors["grades"] = [_("Each grade needs a value from 0 to 100.")]
            return None
        grades.append({"label": label, "value": float(number)})
    if len({g["label"] for g in grades}) != len(grades):
        errors["grades"] = [_("Grade labels must differ.")]
        return None
    return grades


def _clean_scheme(data: dict, scheme) -> dict:
    creating = scheme is None
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if "key" in data or creating:
        key = str(data.get("key") or "").strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,30}", key):
            errors["key"] = [_("Use up to 30 letters, digits, - or _.")]
        else:
            cleaned["key"] = key
    if "name" in data or creating:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 60:
            errors["name"] = [_("Enter a name of up to 60 characters.")]
        else:
            cleaned["name"] = name
    if "method" in data or creating:
        method = data.get("method", GradeMethod.QUANTILES)
        if method not in GradeMethod.values:
            errors["method"] = [
                _("Use one of: %(types)s.") % {"types": ", ".join(GradeMethod.values)}
            ]
        else:
            cleaned["method"] = method
    for name in WEIGHTS:
        if name in data or creating:
            try:
                weight = decimal.Decimal(str(data.get(name, 0)).strip())
                if not weight.is_finite() or not 0 <= weight <= 100:
                    raise decimal.InvalidOperation
                cleaned[name] = weight.quantize(decimal.Decimal("0.01"))
            except (decimal.InvalidOperation, ValueError):
                errors[name] = [_("Enter a weight from 0 to 100.")]
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = [_("Use true or false.")]
        else:
            cleaned["active"] = data["active"]
    if "position" in data:
        if not str(data["position"]).strip().isdigit():
            errors["position"] = [_("Enter a whole number.")]
        else:
            cleaned["position"] = int(data["position"])
    method = cleaned.get("method", getattr(scheme, "method", None))
    if "grades" in data or creating:
        grades = _clean_grades(data.get("grades"), method, errors)
        if grades is not None:
            cleaned["grades"] = grades
    if errors:
        raise ValidationError(errors)
    merged = {n: cleaned.get(n, getattr(scheme, n, None)) for n in SCHEME_FIELDS}
    try:
        GradeScheme(**merged).to_engine()  # the engine's rules: shares add up to 100 …
    except ValueError as error:
        field = "weights" if "weights" in str(error) else "grades"
        raise ValidationError(
            {field: [_("This scheme does not work: %(why)s.") % {"why": error}]}
        ) from None
    clash = GradeScheme.objects.filter(key=merged["key"]).exclude(pk=getattr(scheme, "pk", None))
    if clash.exists():
        raise ValidationError({"key": [_("Another scheme has this key.")]})
    return cleaned


def grade_scheme_save(*, actor: Actor, data: dict, scheme=None):
    """Create or change a grading scheme (admins). The next run grades by it."""
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change how customers are classified."))
    cleaned = _clean_scheme(data, scheme)
    if scheme is None:
        created = GradeScheme.objects.create(**cleaned)
        log_change(created, ChangeAction.CREATE, actor, diff({}, snapshot(created, SCHEME_FIELDS)))
        return created
    return settings_update(actor, scheme, cleaned, SCHEME_FIELDS)


def grade_scheme_delete(*, actor: Actor, scheme) -> None:
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change how customers are classified."))
    log_change(scheme, ChangeAction.DELETE, actor)
    scheme.delete()
