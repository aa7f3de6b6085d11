"""Reads of the segments app: scores follow their customers' visibility; runs
and their figures (the whole base in aggregate) are for the roles that analyse."""

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncMonth

from kehu.accounts import roles
from kehu.accounts.models import Role
from kehu.customers import queries as customer_queries
from kehu.service import queries as service_queries

from .models import CustomerScore, RunStatus, RunTrigger, SegmentRun

ANALYSING_ROLES = (Role.ADMIN, Role.MANAGER, Role.ANALYST)


def can_see_runs(user) -> bool:
    return roles.effective_role(user) in ANALYSING_ROLES


def scores_visible_to(user) -> QuerySet:
    return CustomerScore.objects.filter(
        customer__in=customer_queries.customers_visible_to(user)
    ).select_related("customer")


def previous_run(run: SegmentRun) -> SegmentRun | None:
    """The last finished run before ``run``."""
    return (
        SegmentRun.objects.filter(status=RunStatus.DONE, started_at__lt=run.started_at)
        .exclude(trigger=RunTrigger.ORDERS)  # incremental runs keep no snapshot
        .order_by("-started_at", "-id")
        .first()
    )


AT_RISK_SHOWN = 50


def at_risk(user, limit: int = AT_RISK_SHOWN) -> list[CustomerScore]:
    """The visible customers with the most value at risk, most first."""
    return list(
        scores_visible_to(user)
        .filter(value_at_risk__gt=0)
        .order_by("-value_at_risk", "customer_id")[:limit]
    )


def open_complaints(customer_ids) -> dict[int, dict]:
    """Per customer: open complaint tickets and the cause of the latest one."""
    found: dict[int, dict] = {}
    tickets = (
        service_queries.open_complaints(customer_ids)
        .select_related("cause")
        .order_by("customer_id", "-opened_at")
    )
    for ticket in tickets:
        entry = found.setdefault(ticket.customer_id, {"count": 0, "cause": None})
        entry["count"] += 1
        if entry["cause"] is None and ticket.cause is not None:
            entry["cause"] = ticket.cause.display_label
    return found


def _churned(user) -> QuerySet:
    """Churned customers' scores the user may count. A user who sees every
    customer counts the scores as the run wrote them, without joining the
    customers again (a customer deleted since is counted until the next run)."""
    if roles.read_scope(user) == "all":
        return CustomerScore.objects.filter(lifecycle_stage="churned")
    return scores_visible_to(user).filter(lifecycle_stage="churned")


def _churned_by_latest(user, records, field: str) -> list[tuple[object, int]]:
    """Churned customers by ``field`` of their latest of ``records`` (ordered
    newest first; None: none), most first."""
    latest = Subquery(records.filter(customer_id=OuterRef("customer_id")).values(field)[:1])
    rows = (
        _churned(user)
        .annotate(latest=latest)
        .values("latest")
        .annotate(customers=Count("pk"))
        .order_by("-customers", "latest")
    )
    return [(r["latest"], r["customers"]) for r in rows]


def churn_by_cause(user) -> list[tuple[str | None, int]]:
    """Churned customers by the cause of their latest complaint (None: churned
    without a complaint), most first."""
    from kehu.service.models import Ticket, TicketCause, TicketType

    complaints = Ticket.objects.filter(type=TicketType.COMPLAINT).order_by("-opened_at", "-id")
    names = {c.pk: c.display_label for c in TicketCause.objects.all()}
    return [
        (names.get(cause) if cause else None, n)
        for cause, n in _churned_by_latest(user, complaints, "cause_id")
    ]


def churn_by_cancel_reason(user) -> list[tuple[str | None, int]]:
    """Churned customers by the reason of their latest cancelled order that
    gave one (None: no such order), most first."""
    from kehu.sales.models import Order, OrderStatus

    cancelled = (
        Order.objects.filter(status=OrderStatus.CANCELLED, deleted_at=None)
        .exclude(cancel_reason="")
        .order_by("-ordered_at", "-id")
    )
    return _churned_by_latest(user, cancelled, "cancel_reason")


def churn_by(user, field: str) -> list[tuple[object, int]]:
    """Churned customers by a score field (their RFM segment, say)."""
    rows = (
        _churned(user)
        .order_by()
        .values_list(field)
        .annotate(customers=Count("pk"))
        .order_by("-customers")
    )
    return list(rows)


def churn_by_month(user, months: int = 12) -> list[tuple[object, int]]:
    """Churned customers by the month of their last purchase, latest first."""
    rows = (
        _churned(user)
        .filter(last_purchase__isnull=False)
        .annotate(month=TruncMonth("last_purchase"))
        .order_by()
        .values_list("month")
        .annotate(customers=Count("pk"))
        .order_by("-month")[:months]
    )
    return list(rows)


TAG_CHOICES = 500  # beyond this many tags, the builder takes a typed name


def rule_field_catalogue() -> list[dict]:
    """Every field a rule may test, for the condition builder: name, label,
    kind, the operators of its kind (labelled) and, where the values are a
    fixed set, its choices."""
    from kehu.core.models import CustomFieldDefinition, FieldType
    from kehu.customers.models import CompanySize, Kind, Source, Status, Tag

    from . import labels, rules

    def choices(pairs) -> list[dict]:
        return [{"value": str(v), "label": str(label)} for v, label in pairs if v != ""]

    fixed = {
        "kind": choices(Kind.choices),
        "status": choices(Status.choices),
        "source": choices(Source.choices),
        "company_size": choices(CompanySize.choices),
        "rfm_segment": choices(labels.SEGMENTS.items()),
        "rfm_class": choices(labels.CLASSES.items()),
        "lifecycle_stage": choices(labels.STAGES.items()),
    }
    if Tag.objects.count() <= TAG_CHOICES:
        fixed["tags"] = [
            {"value": n, "label": n} for n in Tag.objects.values_list("name", flat=True)
        ]

    def entry(field: rules.Field, label: str, options=None) -> dict:
        found = {
            "name": field.name,
            "label": label,
            "kind": field.kind,
            "operators": [
                {"op": op, "label": str(labels.OPERATORS[op])}
                for op in labels.OPERATORS
                if op in rules.OPERATORS[field.kind]
            ],
        }
        if options:
            found["choices"] = options
        return found

    catalogue = [entry(f, str(labels.FIELDS[f.name]), fixed.get(f.name)) for f in rules.BUILT_IN]
    for definition in CustomFieldDefinition.objects.order_by("position", "id"):
        kind = (
            rules.NUMBER
            if definition.field_type in (FieldType.INTEGER, FieldType.DECIMAL)
            else rules.TEXT
        )
        options = [{"value": str(c), "label": str(c)} for c in definition.choices or []]
        catalogue.append(
            entry(rules.Field(f"cf.{definition.key}", kind, ""), definition.label, options)
        )
    return catalogue
