"""The engine's configuration as the admins set it."""

from django.db import DatabaseError

from .engine import EngineConfig

ENGINE_FIELDS = [
    "window_days",
    "class_center",
    "lifecycle_mode",
    "new_days",
    "active_days",
    "churn_days",
    "rhythm_active",
    "rhythm_churn",
    "time_unit",
    "clv_months",
    "monthly_discount",
]


def engine_config() -> EngineConfig:
    """The saved settings, or the shipped defaults when none are saved or the
    database is not set up (``kehu analyze`` works without one)."""
    from .models import SegmentSettings

    try:
        saved = SegmentSettings.objects.first()
    except DatabaseError:
        return EngineConfig()
    if saved is None:
        return EngineConfig()
    values = {name: getattr(saved, name) for name in ENGINE_FIELDS}
    for name in ("rhythm_active", "rhythm_churn", "monthly_discount"):
        values[name] = float(values[name])
    return EngineConfig(**values)
