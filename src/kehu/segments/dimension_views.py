"""Pages of the classification standards: dimensions and their values, rules
with the condition builder and the preview, and values given by hand from the
customer page. Admins edit; the roles that analyse read."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts import roles
from kehu.core.models import AppliesTo
from kehu.core.views import posted_rows, ui_actor
from kehu.customers import queries as customer_queries

from . import dimension_services, dimensions, labels, queries, rules
from .models import (
    AssignmentReason,
    Dimension,
    DimensionValue,
    GradeScheme,
    ManualAssignment,
    Rule,
)
from .preview import rule_preview

EMPTY_VALUE_ROWS = 3


def _require_reader(request) -> None:
    if not queries.can_see_runs(request.user):
        raise PermissionDenied


def _require_admin(request) -> None:
    if not roles.is_admin(request.user):
        raise PermissionDenied


@login_required
def dimension_list(request):
    """Every dimension with its values and the rules that set each, and the
    rules that set tags."""
    _require_reader(request)
    from . import runs
    from .views import list_filter

    dimensions = list(Dimension.objects.prefetch_related("values__rules"))
    latest = runs.full_runs().order_by("-started_at", "-id").first()
    sizes = latest.stats.get("sizes", {}) if latest else {}
    for dimension in dimensions:
        counted = sizes.get(f"dimension:{dimension.key}")
        for value in dimension.values.all():
            # None: the latest run did not classify by this dimension.
            value.customers = None if counted is None else counted.get(value.key, 0)
            value.list = list_filter(f"dimension:{dimension.key}", value.key)
    tag_rules = Rule.objects.filter(tag__isnull=False).select_related("tag")
    return render(
        request,
        "segments/dimensions.html",
        {
            "dimensions": dimensions,
            "tag_rules": tag_rules,
            "grade_schemes": GradeScheme.objects.all(),
            "can_edit": roles.is_admin(request.user),
            "latest": latest,
        },
    )


@login_required
def dimension_edit(request, pk: int | None = None):
    _require_reader(request)
    dimension = get_object_or_404(Dimension, pk=pk) if pk else None
    errors: dict = {}
    form = None
    if request.method == "POST":
        _require_admin(request)
        form = {
            "key": request.POST.get("key", ""),
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
            "applies_to": request.POST.get("applies_to", AppliesTo.BOTH),
            "multiple": "multiple" in request.POST,
            "active": "active" in request.POST,
            "position": request.POST.get("position", "0") or "0",
            "values": posted_rows(request.POST, {"key": "value_key", "name": "value_name"}),
        }
        try:
            saved = dimension_services.dimension_save(
                actor=ui_actor(request), data=form, dimension=dimension
            )
            messages.success(request, _("Saved. The next run applies it."))
            return redirect("segments:dimension", pk=saved.pk)
        except ValidationError as error:
            errors = error.message_dict
    if form is None:
        form = {
            "key": getattr(dimension, "key", ""),
            "name": getattr(dimension, "name", ""),
            "description": getattr(dimension, "description", ""),
            "applies_to": getattr(dimension, "applies_to", AppliesTo.BOTH),
            "multiple": getattr(dimension, "multiple", False),
            "active": getattr(dimension, "active", True),
            "position": getattr(dimension, "position", 0),
            "values": [{"key": v.key, "name": v.name} for v in dimension.values.all()]
            if dimension
            else [],
        }
    rows = form["values"] + [{"key": "", "name": ""}] * EMPTY_VALUE_ROWS
    return render(
        request,
        "segments/dimension_form.html",
        {
            "dimension": dimension,
            "form": form,
            "value_rows": rows,
            "errors": errors,
            "applies_choices": AppliesTo.choices,
            "can_edit": roles.is_admin(request.user),
        },
    )


@login_required
@require_POST
def dimension_delete(request, pk: int):
    dimension = get_object_or_404(Dimension, pk=pk)
    try:
        dimension_services.dimension_delete(actor=ui_actor(request), dimension=dimension)
    except ValidationError as error:
        messages.error(request, " ".join(sum(error.message_dict.values(), [])))
        return redirect("segments:dimension", pk=pk)
    messages.success(request, _("Deleted."))
    return redirect("segments:dimensions")


def _rule_form(post) -> dict:
    target = post.get("target", "value")
    return {
        "name": post.get("name", ""),
        "value": post.get("value", "") if target == "value" else "",
        "tag": post.get("tag", "") if target == "tag" else "",
        "conditions": post.get("conditions", ""),
        "priority": post.get("priority", "100") or "100",
        "active": "active" in post,
        "overrides_manual": "overrides_manual" in post,
    }


def _rule_context(request, rule, form, errors) -> dict:
    dimensions = Dimension.objects.prefetch_related("values")
    return {
        "rule": rule,
        "form": form,
        "target": "tag" if form.get("tag") else "value",
        "errors": errors,
        "dimensions": dimensions,
        "catalogue": queries.rule_field_catalogue(),
        "can_edit": roles.is_admin(request.user),
    }


@login_required
def rule_edit(request, pk: int | None = None):
    _require_reader(request)
    rule = get_object_or_404(Rule.objects.select_related("value", "tag"), pk=pk) if pk else None
    errors: dict = {}
    if request.method == "POST":
        _require_admin(request)
        form = _rule_form(request.POST)
        try:
            saved = dimension_services.rule_save(actor=ui_actor(request), data=form, rule=rule)
            messages.success(request, _("Saved. The next run applies the rule."))
            return redirect("segments:rule", pk=saved.pk)
        except ValidationError as error:
            errors = error.message_dict
    elif rule is not None:
        form = {
            "name": rule.name,
            "value": rule.value_id or "",
            "tag": rule.tag.name if rule.tag_id else "",
            "conditions": json.dumps(rule.conditions, ensure_ascii=False),
            "priority": rule.priority,
            "active": rule.active,
            "overrides_manual": rule.overrides_manual,
        }
    else:
        start = {
            "op": "and",
            "conditions": [{"field": "order_count", "operator": "gte", "value": 2}],
        }
        form = {
            "name": "",
            "value": request.GET.get("value", ""),
            "tag": "",
            "conditions": json.dumps(start),
            "priority": 100,
            "active": True,
            "overrides_manual": False,
        }
    return render(request, "segments/rule_form.html", _rule_context(request, rule, form, errors))


@login_required
@require_POST
def rule_preview_view(request):
    """The preview panel (htmx) for the rule form as it stands."""
    _require_admin(request)
    rule = None
    if request.POST.get("rule", "").isdigit():
        rule = Rule.objects.filter(pk=int(request.POST["rule"])).first()
    context: dict = {"errors": {}}
    try:
        context["preview"] = rule_preview(
            actor=ui_actor(request), data=_rule_form(request.POST), rule=rule
        )
    except ValidationError as error:
        context["errors"] = error.message_dict
    else:
        for row in context["preview"].sample:
            row["fired"] = {field_label(k): shown(k, v) for k, v in row["fired"].items()}
    return render(request, "segments/rule_preview.html", context)


@login_required
@require_POST
def rule_delete(request, pk: int):
    rule = get_object_or_404(Rule, pk=pk)
    dimension_services.rule_delete(actor=ui_actor(request), rule=rule)
    messages.success(request, _("Deleted. The next run takes away what the rule gave."))
    return redirect("segments:dimensions")


@login_required
@require_POST
def manual_value(request, customer_pk: int):
    """Give or take back a dimension value by hand, from the customer page."""
    customer = get_object_or_404(
        customer_queries.customers_visible_to(request.user), pk=customer_pk
    )
    value_id = request.POST.get("value", "")
    value = get_object_or_404(DimensionValue, pk=int(value_id)) if value_id.isdigit() else None
    if value is None:
        messages.error(request, _("Choose a value of a dimension."))
        return redirect("customers:detail", pk=customer.pk)
    try:
        if request.POST.get("action") == "remove":
            dimension_services.manual_unassign(
                actor=ui_actor(request), customer=customer, value=value
            )
        else:
            dimension_services.manual_assign(
                actor=ui_actor(request), customer=customer, value=value
            )
        messages.success(request, _("Saved."))
    except ValidationError as error:
        messages.error(request, " ".join(sum(error.message_dict.values(), [])))
    return redirect(reverse("customers:detail", kwargs={"pk": customer.pk}) + "#segments")


def field_label(column: str) -> str:
    """What a column of the evaluation frame (as stored in "fired") is called."""
    if column.startswith("purchases_in_") and column.endswith("_days"):
        days = column.removeprefix("purchases_in_").removesuffix("_days")
        return _("Purchases in the last %(n)s days") % {"n": days}
    if column.startswith("cf."):
        from kehu.core.models import CustomFieldDefinition

        found = CustomFieldDefinition.objects.filter(key=column[3:]).first()
        return found.label if found else column
    by_column = {f.column: f.name for f in rules.BUILT_IN}
    return str(labels.FIELDS.get(by_column.get(column, column), column))


def from_score(score, column: str):
    """What the run read for a column the score row holds (dimensions.FROM_SCORE)."""
    if column == "order_count":
        return score.rfm_frequency
    if column == "total_spent":
        return score.rfm_monetary
    if column == "average_spent":
        if not score.rfm_frequency or score.rfm_monetary is None:
            return None
        return round(score.rfm_monetary / score.rfm_frequency, 2)
    if column == "days_since_last_purchase":
        return (score.as_of - score.last_purchase).days if score.last_purchase else None
    return getattr(score, column) or None


def _why(entry: dict, rules_by_pk: dict, hand: dict, score) -> str:
    if entry["by_hand"]:
        given = hand.get(entry["value"])
        if given is None:
            return _("given by hand")
        user = given.assigned_by
        who = (user.get_full_name() or user.username) if user else _("the system")
        return _("given by hand by %(who)s on %(date)s") % {
            "who": who,
            "date": given.assigned_at.date().isoformat(),
        }
    rule = rules_by_pk.get(entry["rule"])
    if rule is None:
        return _("a deleted rule")
    read = {}
    for name, days in rules.referenced(rule.conditions):
        column = f"purchases_in_{days}_days" if days else name
        column = {f.name: f.column for f in rules.BUILT_IN}.get(column, column)
        if column in dimensions.FROM_SCORE and score is not None:
            read[column] = from_score(score, column)
        elif column in entry["fired"]:
            read[column] = entry["fired"][column]
    fired = "; ".join(f"{field_label(c)}: {shown(c, v)}" for c, v in read.items())
    name = rule.display_name
    return _("rule “%(rule)s”: %(fired)s") % {"rule": name, "fired": fired} if fired else name


def _choice_labels() -> dict[str, dict]:
    from kehu.customers.models import CompanySize, Kind, Source, Status

    return {
        "kind": dict(Kind.choices),
        "status": dict(Status.choices),
        "source": dict(Source.choices),
        "company_size": dict(CompanySize.choices),
        "rfm_segment": labels.SEGMENTS,
        "rfm_class": labels.CLASSES,
        "lifecycle_stage": labels.STAGES,
    }


def shown(column: str, value) -> str:
    """A value a rule read, as a person reads it: labels for codes, a dash
    for nothing, whole numbers without decimals."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(_choice_labels().get(column, {}).get(value, value))


def stored_entries(score) -> dict[int, list[dict]]:
    """The score's dimension values by dimension id, in the run's order:
    ``{"value": key, "rule": id or None, "by_hand": bool, "fired": {…}}``."""
    ids = score.dimensions if score is not None and isinstance(score.dimensions, list) else []
    reasons = AssignmentReason.objects.filter(pk__in=ids).select_related("value")
    by_pk = {r.pk: r for r in reasons}
    found: dict[int, list[dict]] = {}
    for pk in ids:
        reason = by_pk.get(pk)
        if reason is None:
            continue
        found.setdefault(reason.value.dimension_id, []).append(
            {
                "value": reason.value.key,
                "rule": reason.rule_id,
                "by_hand": reason.by_hand,
                "fired": reason.fired or {},
            }
        )
    return found


def dimension_panel(customer, score, user) -> list[dict]:
    """Each active dimension for this kind of customer: its values with why,
    the values given by hand and, for who may edit the customer, the values
    that can be given."""
    stored = stored_entries(score)
    rule_ids = {e["rule"] for given in stored.values() for e in given if e["rule"]}
    rules_by_pk = Rule.objects.in_bulk(rule_ids)
    hand_rows = ManualAssignment.objects.filter(customer=customer).select_related(
        "value__dimension", "assigned_by"
    )
    hand: dict[int, dict] = {}
    for row in hand_rows:
        hand.setdefault(row.value.dimension_id, {})[row.value.key] = row
    editable = customer_queries.can_edit(user, customer)
    panel = []
    for dimension in Dimension.objects.filter(active=True).prefetch_related("values"):
        if dimension.applies_to not in (AppliesTo.BOTH, customer.kind):
            continue
        values = {v.key: v for v in dimension.values.all()}
        mine = hand.get(dimension.pk, {})
        entries = stored.get(dimension.pk, [])
        if score is None:  # not classified yet: what was given by hand
            entries = [{"value": key, "rule": None, "by_hand": True, "fired": {}} for key in mine]
        shown_by_hand = {e["value"] for e in entries if e["by_hand"]}
        panel.append(
            {
                "dimension": dimension,
                "entries": [
                    {
                        "name": values[e["value"]].display_name
                        if e["value"] in values
                        else e["value"],
                        "value": values.get(e["value"]),
                        "why": _why(e, rules_by_pk, mine, score),
                        "by_hand": e["by_hand"],
                    }
                    for e in entries
                ],
                # given by hand, but a rule that overrides hand-given values won
                "overridden": [row.value for key, row in mine.items() if key not in shown_by_hand],
                "choices": list(values.values()) if editable else [],
            }
        )
    return panel
