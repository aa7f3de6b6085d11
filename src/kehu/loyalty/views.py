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
from .models import LoyaltyAccount, LoyaltyEntry

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
