from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.views import ui_actor
from kehu.customers import queries as customer_queries
from kehu.customers.timeline import Entry

from . import queries, services
from .models import EarnRule, LoyaltyAccount, LoyaltyEntry, Tier, TierBasis

RECENT_ENTRIES = 10


def customer_loyalty_panel(request, customer, errors=None, done=None) -> dict:
    """Points on the customer 360 page (the page checked access): balance, tier,
    points expiring soon, the latest entries, and forms to grant and redeem."""
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    standing = queries.account_standing(account, customer, queries.tiers())
    entries = list(
        LoyaltyEntry.objects.filter(customer=customer)
        .select_related("created_by")
        .order_by("-occurred_at", "-id")[:RECENT_ENTRIES]
    )
    return {
        "customer": customer,
        "account": account,
        "balance": account.balance if account else 0,
        "lifetime_points": account.lifetime_points if account else 0,
        "standing": standing,
        "expiring": queries.expiring_soon(customer) if account else None,
        "entries": [(e, entry_title(e)) for e in entries],
        "can_write": services.can_write(request.user, customer),
        "can_adjust": services.can_adjust(request.user),
        "errors": errors or {},
        "done": done,
    }


FIELD_LABELS = {
    "points": gettext_lazy("Points"),
    "reason": gettext_lazy("Reason"),
    "kind": gettext_lazy("Kind"),
}


@require_POST
@login_required
def entry_create(request, customer_pk):
    """Grant, redeem or adjust from the 360 page; an htmx request gets the panel
    back (with the errors next to the form), any other a redirect."""
    customer = get_object_or_404(
        customer_queries.customers_visible_to(request.user), pk=customer_pk
    )
    data = {name: request.POST.get(name, "") for name in ("kind", "points", "reason")}
    errors, done = {}, None
    try:
        entry = services.entry_create(actor=ui_actor(request), customer=customer, data=data)
    except ValidationError as error:
        errors = error.message_dict
    except PermissionDenied as error:
        errors = {"kind": [str(error)]}
    else:
        done = _("%(points)+d points: %(what)s.") % {
            "points": entry.points,
            "what": entry.get_kind_display(),
        }
    if request.htmx:
        context = customer_loyalty_panel(request, customer, errors=errors, done=done)
        context["form"] = data if errors else {}
        return render(
            request,
            "loyalty/customer_loyalty.html",
            {"panel": context, "user": request.user},
            status=400 if errors else 200,
        )
    for field, problems in errors.items():
        messages.error(request, f"{FIELD_LABELS.get(field, field)}: {' '.join(problems)}")
    if done:
        messages.success(request, done)
    return redirect(reverse("customers:detail", args=[customer.pk]) + "#loyalty")


def entry_title(entry: LoyaltyEntry) -> str:
    parts = [f"{entry.points:+d}", entry.get_kind_display()]
    if entry.order_ref:
        parts.append(_("order %(ref)s") % {"ref": entry.order_ref})
    if entry.reason:
        parts.append(entry.reason)
    return " · ".join(parts)


# ---- the customer timeline's source (see customers.timeline) ------------------------


def entries_of(customer):
    return LoyaltyEntry.objects.filter(customer=customer).select_related("created_by")


def entry_entry(entry: LoyaltyEntry) -> Entry:
    return Entry(
        "points",
        entry.occurred_at,
        entry.pk,
        entry_title(entry),
        {
            "kind": entry.kind,
            "points": entry.points,
            "reason": entry.reason,
            "order_id": entry.order_id,
            "order_ref": entry.order_ref,
            "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
            "user": entry.created_by.username if entry.created_by_id else None,
        },
    )


# ---- the programme: earning rule and tiers (admins) --------------------------------


PROGRAMME_LABELS = {
    "name": gettext_lazy("Name"),
    "unit_amount": gettext_lazy("Per amount"),
    "points_per_unit": gettext_lazy("Points"),
    "minimum_amount": gettext_lazy("Minimum order amount"),
    "basis": gettext_lazy("Basis"),
    "threshold": gettext_lazy("Threshold"),
    "benefits": gettext_lazy("Benefits"),
    "position": gettext_lazy("Position"),
}


@login_required
def programme(request):
    """The loyalty programme for admins: the earning rule and the tiers."""
    if not services.can_adjust(request.user):
        raise PermissionDenied
    if request.method == "POST":
        _programme_change(request)
        return redirect("loyalty:programme")
    return render(
        request,
        "loyalty/programme.html",
        {
            "rule": EarnRule.objects.filter(active=True).first(),
            "tiers": queries.tiers(),
            "bases": TierBasis.choices,
            "base": settings.KEHU_BASE_CURRENCY,
        },
    )


def _programme_change(request) -> None:
    post, actor = request.POST, ui_actor(request)
    action = post.get("action")
    try:
        if action == "rule":
            fields = ("name", "unit_amount", "points_per_unit", "minimum_amount")
            services.earn_rule_save(
                actor=actor,
                rule=EarnRule.objects.filter(active=True).first(),
                data={name: post.get(name, "") for name in fields},
            )
        elif action in ("tier", "delete_tier"):
            tier = None
            if post.get("tier"):
                tier = get_object_or_404(Tier, pk=post.get("tier"))
            if action == "delete_tier" and tier is not None:
                services.tier_delete(actor=actor, tier=tier)
            else:
                fields = ("name", "basis", "threshold", "benefits", "position")
                data = {name: post.get(name, "") for name in fields}
                if not data["position"]:
                    data.pop("position")
                services.tier_save(actor=actor, tier=tier, data=data)
        else:
            return
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            messages.error(request, f"{PROGRAMME_LABELS.get(field, field)}: {' '.join(problems)}")
    else:
        messages.success(request, _("Saved."))
