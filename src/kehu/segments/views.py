"""Pages and panels of the segments app."""

from django.utils.translation import gettext as _

from . import labels
from .models import CustomerScore, RunStatus, SegmentRun


def _stage_reason(score: CustomerScore, new_days: int) -> str:
    since_last = score.rfm_recency_days_all
    if score.lifecycle_stage == "new":
        days = (score.as_of - score.first_purchase).days
        return _("first purchase %(days)d days ago, within %(limit)d") % {
            "days": days,
            "limit": new_days,
        }
    values = {
        "days": since_last,
        "active": round(score.active_within_days),
        "churn": round(score.churned_after_days),
    }
    if score.lifecycle_stage == "active":
        return _("last purchase %(days)d days ago, within %(active)d") % values
    if score.lifecycle_stage == "silent":
        return _("last purchase %(days)d days ago, between %(active)d and %(churn)d") % values
    return _("last purchase %(days)d days ago, more than %(churn)d") % values


def customer_segments_panel(request, customer) -> dict:
    """Value and segments on the customer 360 page (the page checked access):
    the latest run's figures for the customer and why they are what they are."""
    from .settings_store import engine_config

    score = CustomerScore.objects.filter(customer=customer).select_related("run").first()
    run = score.run if score else None
    if score is None:
        latest = SegmentRun.objects.filter(status=RunStatus.DONE).first()
        return {"customer": customer, "score": None, "latest": latest}
    config = engine_config()
    score.rfm_recency_days_all = (
        (score.as_of - score.last_purchase).days if score.last_purchase else None
    )
    return {
        "customer": customer,
        "score": score,
        "run": run,
        "scored": (run.stats or {}).get("scored") if run else None,
        "segment": labels.SEGMENTS.get(score.rfm_segment, ""),
        "klass": labels.CLASSES.get(score.rfm_class, ""),
        "stage": labels.STAGES.get(score.lifecycle_stage, ""),
        "stage_reason": _stage_reason(score, config.new_days) if score.lifecycle_stage else "",
        "p_alive_percent": round(score.p_alive * 100) if score.p_alive is not None else None,
    }
