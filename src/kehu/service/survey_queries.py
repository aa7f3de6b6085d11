"""Reads of surveys: who may see which invitations and answers, and the CSAT,
NPS and response-rate figures, added up in the database."""

import datetime

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers import queries as customer_queries

from .models import Survey, SurveyInvitation, SurveyResponse

# Customer fields a report may be broken down by.
GROUPS = {
    "kind": ("customer__kind", _("Kind")),
    "status": ("customer__status", _("Status")),
    "source": ("customer__source", _("Source")),
    "province": ("customer__province", _("Province")),
    "city": ("customer__city", _("City")),
    "industry": ("customer__industry", _("Industry")),
    "company_size": ("customer__company_size", _("Company size")),
    "team": ("customer__team__name", _("Team")),
}
PERIODS = {
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
}
SATISFIED = (4, 5)  # CSAT counts the share of 4s and 5s
PROMOTERS = (9, 10)
DETRACTORS = range(0, 7)


def surveys_for(user) -> QuerySet:
    """Survey definitions: every signed-in user may read them."""
    return (
        Survey.objects.all() if getattr(user, "is_authenticated", False) else Survey.objects.none()
    )


def invitations_visible_to(user) -> QuerySet:
    return SurveyInvitation.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("survey", "customer")


def responses_visible_to(user) -> QuerySet:
    return SurveyResponse.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("survey", "customer")


def score_aggregates() -> dict:
    return {
        "responses": Count("pk"),
        "csat_responses": Count("csat"),
        "csat_satisfied": Count("pk", filter=Q(csat__in=SATISFIED)),
        "csat_average": Avg("csat"),
        "nps_responses": Count("nps"),
        "promoters": Count("pk", filter=Q(nps__in=PROMOTERS)),
        "detractors": Count("pk", filter=Q(nps__in=DETRACTORS)),
    }


def with_scores(row: dict) -> dict:
    """Add CSAT (% satisfied), the average score, and NPS (% promoters − %
    detractors) to a row of counts; None where nobody answered."""
    csat_n, nps_n = row.get("csat_responses") or 0, row.get("nps_responses") or 0
    row["csat"] = round(100 * row["csat_satisfied"] / csat_n, 1) if csat_n else None
    average = row.get("csat_average")
    row["csat_average"] = round(float(average), 2) if average is not None else None
    row["passives"] = nps_n - row["promoters"] - row["detractors"]
    row["nps"] = round(100 * (row["promoters"] - row["detractors"]) / nps_n, 1) if nps_n else None
    invited = row.get("invitations")
    if invited is not None:
        row["response_rate"] = round(100 * row["answered"] / invited, 1) if invited else None
    return row


def _period_label(moment, period: str) -> str | None:
    if moment is None:
        return None
    day = moment.date() if isinstance(moment, datetime.datetime) else moment
    if period == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day:%Y-%m}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "year":
        return str(day.year)
    return day.isoformat()


def _grouped(queryset: QuerySet, keys: list[str], **aggregates) -> list[dict]:
    """Aggregates per distinct ``keys``; one row over everything when there are none
    (``values()`` without fields would group by every column)."""
    if not keys:
        totals = queryset.aggregate(**aggregates)
        return [totals] if any(totals.values()) else []
    return list(queryset.values(*keys).annotate(**aggregates))


def survey_report(
    user,
    *,
    survey: Survey | None = None,
    period: str | None = None,
    group_by: str | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> list[dict]:
    """Rows of invitations, answered invitations, response rate, CSAT and NPS over
    the customers ``user`` may see, per ``period`` and per customer ``group_by``
    (see PERIODS and GROUPS). Invitations count in the period they were sent,
    answers in the period they came in. ValueError for an unknown period or group."""
    if period is not None and period not in PERIODS:
        raise ValueError("period")
    if group_by is not None and group_by not in GROUPS:
        raise ValueError("group_by")
    responses = responses_visible_to(user).order_by()
    invitations = invitations_visible_to(user).order_by()
    if survey is not None:
        responses, invitations = responses.filter(survey=survey), invitations.filter(survey=survey)
    if since is not None:
        responses = responses.filter(submitted_at__gte=since)
        invitations = invitations.filter(sent_at__gte=since)
    if until is not None:
        responses = responses.filter(submitted_at__lt=until)
        invitations = invitations.filter(sent_at__lt=until)
    zone = timezone.get_current_timezone()
    response_keys, invitation_keys = [], []
    if period:
        responses = responses.annotate(bucket=Trunc("submitted_at", period, tzinfo=zone))
        invitations = invitations.annotate(bucket=Trunc("sent_at", period, tzinfo=zone))
        response_keys.append("bucket")
        invitation_keys.append("bucket")
    if group_by:
        field = GROUPS[group_by][0]
        response_keys.append(field)
        invitation_keys.append(field)

    def key(row: dict, keys: list[str]) -> tuple:
        values = []
        for name in keys:
            value = row[name]
            values.append(_period_label(value, period) if name == "bucket" else (value or ""))
        return tuple(values)

    rows: dict[tuple, dict] = {}
    empty = {
        "invitations": 0,
        "answered": 0,
        "responses": 0,
        "csat_responses": 0,
        "csat_satisfied": 0,
        "csat_average": None,
        "nps_responses": 0,
        "promoters": 0,
        "detractors": 0,
    }
    for row in _grouped(
        invitations, invitation_keys, invitations=Count("pk"), answered=Count("answered_at")
    ):
        entry = rows.setdefault(key(row, invitation_keys), dict(empty))
        entry["invitations"] += row["invitations"]
        entry["answered"] += row["answered"]
    for row in _grouped(responses, response_keys, **score_aggregates()):
        if not row["responses"]:
            continue
        entry = rows.setdefault(key(row, response_keys), dict(empty))
        for name in score_aggregates():
            entry[name] = row[name]
    report = []
    for values, entry in sorted(rows.items()):
        labelled = dict(
            zip(["period"] * bool(period) + ["group"] * bool(group_by), values, strict=True)
        )
        report.append({**labelled, **with_scores(entry)})
    return report


def question_summary(survey: Survey, responses: QuerySet) -> list[dict]:
    """Per question: how many answered, and the count of each score or choice
    (texts: the latest few). Reads only the answers column, as it streams."""
    questions = list(survey.questions.all())
    counts: dict[str, dict] = {str(q.pk): {} for q in questions}
    answered = dict.fromkeys(counts, 0)
    texts: dict[str, list[str]] = {str(q.pk): [] for q in questions}
    for answers in responses.order_by("-submitted_at").values_list("answers", flat=True).iterator():
        for key, value in answers.items():
            if key not in counts:
                continue
            answered[key] += 1
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str) and key in texts and len(texts[key]) < 20:
                    texts[key].append(item)
                counts[key][item] = counts[key].get(item, 0) + 1
    summary = []
    for question in questions:
        key = str(question.pk)
        if question.scale is not None:
            options = list(question.scale)
        elif question.choices:
            options = list(question.choices)
        else:
            options = []
        summary.append(
            {
                "question": question,
                "answered": answered[key],
                "options": [(option, counts[key].get(option, 0)) for option in options],
                "texts": texts[key] if not options else [],
            }
        )
    return summary
