"""Pages and panels of the segments app."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.views import ui_actor
from kehu.customers.queries import can_edit

from . import labels
from .dimension_views import dimension_panel
from .models import (
    ClassCenter,
    CustomerScore,
    Dimension,
    GradeScheme,
    LifecycleMode,
    RunStatus,
    SegmentRun,
    TimeUnit,
)
from .recommend import recommend_for
from .settings_store import engine_config


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
    suggestions = [
        {"product": s.product, "because": "、".join(p.name for p in s.because)}
        for s in recommend_for(customer)
    ]
    score = CustomerScore.objects.filter(customer=customer).select_related("run").first()
    run = score.run if score else None
    if score is None:
        latest = SegmentRun.objects.filter(status=RunStatus.DONE).first()
        return {
            "customer": customer,
            "score": None,
            "latest": latest,
            "suggestions": suggestions,
            "dimensions": dimension_panel(customer, None, request.user),
            "can_give": can_edit(request.user, customer),
        }
    config = engine_config()
    score.rfm_recency_days_all = (
        (score.as_of - score.last_purchase).days if score.last_purchase else None
    )
    names = {g.key: g.display_name for g in GradeScheme.objects.all()}
    grades = [
        {"scheme": names.get(key, key), "grade": value.get("grade"), "score": value.get("score")}
        for key, value in (score.grades or {}).items()
        if value.get("grade")
    ]
    return {
        "customer": customer,
        "score": score,
        "grades": grades,
        "suggestions": suggestions,
        "run": run,
        "scored": (run.stats or {}).get("scored") if run else None,
        "segment": labels.SEGMENTS.get(score.rfm_segment, ""),
        "klass": labels.CLASSES.get(score.rfm_class, ""),
        "stage": labels.STAGES.get(score.lifecycle_stage, ""),
        "stage_reason": _stage_reason(score, config.new_days) if score.lifecycle_stage else "",
        "p_alive_percent": round(score.p_alive * 100) if score.p_alive is not None else None,
        "dimensions": dimension_panel(customer, score, request.user),
        "can_give": can_edit(request.user, customer),
    }


SIZE_HISTORY = 12


def scheme_names() -> dict[str, tuple[str, dict[str, str]]]:
    """Every scheme a run snapshots, by snapshot key: its name and its labels'
    names by code (dimension values by key; grades are their own names)."""
    found = {
        key: (str(name), {c: str(n) for c, n in codes.items()})
        for key, (name, codes) in labels.SCHEMES.items()
    }
    for scheme in GradeScheme.objects.filter(active=True):
        grades = {str(g["label"]): str(g["label"]) for g in scheme.grades}
        found[f"grade:{scheme.key}"] = (scheme.display_name, grades)
    for dimension in Dimension.objects.filter(active=True).prefetch_related("values"):
        values = {v.key: v.display_name for v in dimension.values.all()}
        found[f"dimension:{dimension.key}"] = (dimension.display_name, values)
    return found


def list_filter(scheme: str, code: str) -> str:
    """The customer list's query for the holders of a label (see list_filters)."""
    kind, _sep, key = scheme.partition(":")
    name = {"grade": f"grade_{key}", "dimension": f"dim_{key}"}.get(kind, scheme)
    return urlencode({name: code})


def _rows_of(scheme: str, names: dict, sizes: dict, before: dict | None) -> list[dict]:
    total = sum(sizes.values()) or 1
    # Labels a run counted that the standards no longer name still show.
    codes = [*names, *(code for code in sizes if code not in names)]
    return [
        {
            "code": code,
            "label": names.get(code, code),
            "customers": sizes.get(code, 0),
            "share": round(100 * sizes.get(code, 0) / total, 1),
            "change": sizes.get(code, 0) - before.get(code, 0) if before is not None else None,
            "list": list_filter(scheme, code),
        }
        for code in codes
    ]


def _matrix(run) -> list[dict]:
    cells = {(c["r"], c["f"]): c for c in run.stats.get("rf_matrix", [])}
    return [
        {"r": r, "cells": [cells.get((r, f), {"customers": 0, "revenue": 0}) for f in range(1, 6)]}
        for r in range(5, 0, -1)
    ]


def _migration_table(scheme: str, names: dict, earlier, later) -> dict | None:
    from . import runs

    if earlier is None or not all(
        r.snapshots.filter(scheme=scheme).exists() for r in (earlier, later)
    ):
        return None
    moves = runs.migration(scheme, earlier, later)
    names = names or {label: label for label in later.snapshots.get(scheme=scheme).labels}
    codes = [*names, None]
    counts = {(f, t): n for f, t, n in moves.rows()}
    return {
        "earlier": earlier,
        "columns": [names.get(c, _("none")) if c else _("none") for c in codes],
        "rows": [
            {
                "label": names.get(f, _("none")) if f else _("none"),
                "cells": [{"n": counts.get((f, t), 0), "same": f == t} for t in codes],
            }
            for f in codes
        ],
    }


@login_required
def overview(request):
    """Segments for admins, managers and analysts: the latest run's sizes, the
    R × F matrix, who moved since the previous run, sizes over time, and (for
    admins) the settings."""
    from . import queries, services

    if not queries.can_see_runs(request.user):
        raise PermissionDenied
    scheme = request.GET.get("scheme", "rfm_segment")
    errors = {}
    if request.method == "POST":
        if not roles.is_admin(request.user):
            raise PermissionDenied
        try:
            services.settings_save(actor=ui_actor(request), data=request.POST.dict())
            messages.success(request, _("Saved. The next run uses these settings."))
            return redirect("segments:overview")
        except ValidationError as error:
            errors = error.message_dict
    from . import runs

    every_scheme = scheme_names()
    several = set(Dimension.objects.filter(multiple=True).values_list("key", flat=True))
    if scheme not in every_scheme:
        scheme = "rfm_segment"
    done = list(runs.full_runs().order_by("-started_at", "-id")[:SIZE_HISTORY])
    latest = done[0] if done else None
    earlier = done[1] if len(done) > 1 else None
    context = {
        "latest": latest,
        "failed": SegmentRun.objects.filter(status=RunStatus.FAILED).first(),
        "scheme": scheme,
        # A customer with several values of a dimension has no single place
        # to move from: those dimensions show sizes only.
        "schemes": [
            (key, name)
            for key, (name, _codes) in every_scheme.items()
            if key.removeprefix("dimension:") not in several
        ],
        "errors": errors,
        "can_edit": roles.is_admin(request.user),
        "settings": services.current_settings(),
        "form": request.POST if errors else None,
        "choices": {
            "class_center": ClassCenter.choices,
            "lifecycle_mode": LifecycleMode.choices,
            "time_unit": TimeUnit.choices,
        },
    }
    if latest is not None:
        sizes = latest.stats.get("sizes", {})
        before = earlier.stats.get("sizes", {}) if earlier else None
        context["size_tables"] = [
            (
                key,
                name,
                _rows_of(key, codes, sizes.get(key, {}), before.get(key, {}) if before else None),
            )
            for key, (name, codes) in every_scheme.items()
        ]
        context["matrix"] = _matrix(latest)
        shown = every_scheme[scheme][1]
        if scheme.removeprefix("dimension:") in several:
            context["several_values"] = True
        else:
            context["migration"] = _migration_table(scheme, shown, earlier, latest)
        context["history"] = {
            "runs": list(reversed(done)),
            "rows": [
                {
                    "label": label,
                    "counts": [
                        r.stats.get("sizes", {}).get(scheme, {}).get(code, 0)
                        for r in reversed(done)
                    ],
                }
                for code, label in shown.items()
            ],
        }
    return render(request, "segments/overview.html", context)


def _drivers(score: CustomerScore, complaints: dict | None) -> list[str]:
    """Why a customer is at risk, in words."""
    reasons = []
    if score.last_purchase is not None:
        since = (score.as_of - score.last_purchase).days
        if score.purchase_days >= 2 and score.first_purchase is not None:
            span = (score.last_purchase - score.first_purchase).days
            gap = max(round(span / (score.purchase_days - 1)), 1)
            reasons.append(
                _("no purchase for %(since)d days; bought every %(gap)d days")
                % {"since": since, "gap": gap}
            )
        else:
            reasons.append(_("one purchase, %(since)d days ago") % {"since": since})
    if score.p_alive is not None:
        reasons.append(_("%(p)d%% likely still active") % {"p": round(score.p_alive * 100)})
    if complaints:
        text = _("%(n)d open complaints") % {"n": complaints["count"]}
        if complaints["cause"]:
            text += f" ({complaints['cause']})"
        reasons.append(text)
    return reasons


@login_required
def churn(request):
    """Valuable customers at risk, with what drives the risk, and churn analysis:
    churned customers by complaint cause, by RFM segment and by the month they
    last bought. Everyone sees the customers they may see."""
    from . import queries

    scores = queries.at_risk(request.user)
    complaints = queries.open_complaints(s.customer_id for s in scores)
    rows = [
        {
            "score": s,
            "segment": labels.SEGMENTS.get(s.rfm_segment, ""),
            "drivers": _drivers(s, complaints.get(s.customer_id)),
        }
        for s in scores
    ]
    by_segment = [
        (labels.SEGMENTS.get(code, _("none")) if code else _("none"), n)
        for code, n in queries.churn_by(request.user, "rfm_segment")
    ]
    return render(
        request,
        "segments/churn.html",
        {
            "rows": rows,
            "by_cause": queries.churn_by_cause(request.user),
            "by_reason": queries.churn_by_cancel_reason(request.user),
            "by_segment": by_segment,
            "by_month": queries.churn_by_month(request.user),
            "latest": SegmentRun.objects.filter(status=RunStatus.DONE).first(),
        },
    )


@login_required
def campaign_export(request):
    """Customers by segment, class, stage, score or value as CSV for a campaign,
    filtered like ``/api/segments/scores/``, for the customers the user may see."""
    from django.http import HttpResponseBadRequest, StreamingHttpResponse
    from django.utils import timezone

    from . import queries
    from .exports import campaign_csv_rows
    from .filtersets import ScoreFilterSet

    filterset = ScoreFilterSet(
        request.GET, queryset=queries.scores_visible_to(request.user).order_by("customer_id")
    )
    if not filterset.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items())
        return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(campaign_csv_rows(filterset.qs), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="campaign-{stamp}.csv"'
    return response
