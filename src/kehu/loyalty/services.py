"""Every write of the loyalty app: points earned on paid orders and reversed on
refunds (set-based, from the sales signals), grants, redemptions and
adjustments, expiry, and the admins' tiers and earning rule.

Manual entries (grant, redeem, adjust) and the admins' edits go to the change
log. Earnings, reversals and expiry do not: the ledger entry itself records who
(the order batch's caller), when, through what channel and for which order,
and it is never changed (docs/decisions.md).
"""

import decimal
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.bulk import insert_rows
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import ChangeAction
from kehu.core.normalize import clean_text
from kehu.core.records import settings_update
from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer

from . import ledger
from .models import EarnRule, EntryKind, LoyaltyEntry, Tier, TierBasis

MAX_POINTS = 10_000_000
REASON_LIMIT = 300
CENT = decimal.Decimal("0.01")


def can_write(user, customer: Customer) -> bool:
    """Who may grant and redeem points: whoever may edit the customer."""
    return customer_queries.can_edit(user, customer)


def can_adjust(user) -> bool:
    """Corrections of the ledger are for admins."""
    return roles.is_admin(user)


# ---- manual entries ---------------------------------------------------------------


def _points(value, *, signed: bool) -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise ValueError(_("Enter a whole number of points."))
    try:
        points = int(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a whole number of points.")) from None
    if signed and points == 0:
        raise ValueError(_("Enter a number of points other than 0."))
    if not signed and points <= 0:
        raise ValueError(_("Enter a number of points above 0."))
    if abs(points) > MAX_POINTS:
        raise ValueError(_("At most %(n)d points at once.") % {"n": MAX_POINTS})
    return points


def _clean_entry(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    manual = (EntryKind.GRANT, EntryKind.REDEEM, EntryKind.ADJUST)
    if kind not in manual:
        errors["kind"] = [_("Use one of: %(types)s.") % {"types": ", ".join(manual)}]
    points = None
    try:
        points = _points(data.get("points"), signed=kind == EntryKind.ADJUST)
    except ValueError as error:
        errors["points"] = [str(error)]
    reason = clean_text(str(data.get("reason") or ""))
    if len(reason) > REASON_LIMIT:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": REASON_LIMIT}]
    elif not reason and kind in (EntryKind.GRANT, EntryKind.ADJUST):
        errors["reason"] = [_("Say why the points are given or corrected.")]
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "points": points, "reason": reason}


def entry_create(*, actor: Actor, customer: Customer, data: dict) -> LoyaltyEntry:
    """A manual entry: ``{"kind": "grant" | "redeem" | "adjust", "points",
    "reason"}``. A grant adds points (reason required) that expire like earned
    ones; a redemption spends points, never more than the balance, taking the
    points that expire first; an adjustment (admins; reason required) corrects
    the balance either way and may leave it negative. PermissionDenied for who
    may not; ValidationError naming the field."""
    if actor.user is not None and not can_write(actor.user, customer):
        raise PermissionDenied(_("You may not change this customer's points."))
    if (
        data.get("kind") == EntryKind.ADJUST
        and actor.user is not None
        and not can_adjust(actor.user)
    ):
        raise PermissionDenied(_("Only admins adjust points."))
    cleaned = _clean_entry(data)
    kind, points, reason = cleaned["kind"], cleaned["points"], cleaned["reason"]
    now = timezone.now()
    with transaction.atomic():
        account = ledger.locked_account(customer.pk, now)
        if kind == EntryKind.REDEEM and points > account.balance:
            raise ValidationError(
                {"points": [_("Only %(n)d points are available.") % {"n": max(account.balance, 0)}]}
            )
        if kind == EntryKind.GRANT:
            entry = ledger.credit(
                account, actor, kind, points, now, reason, expires_at=ledger.expiry_for(now)
            )
        elif kind == EntryKind.REDEEM:
            entry = ledger.debit(account, actor, kind, points, now, reason)
        elif points > 0:  # a positive adjustment corrects; it does not expire
            entry = ledger.credit(account, actor, kind, points, now, reason)
        else:
            entry = ledger.debit(account, actor, kind, -points, now, reason)
        log_change(
            entry,
            ChangeAction.CREATE,
            actor,
            {"kind": [None, kind], "points": [None, entry.points], "reason": [None, reason]},
            parent=customer,
        )
    return entry


# ---- orders and refunds (from the sales signals) -----------------------------------


def earn_for_orders(*, actor: Actor, orders: list[dict]) -> int:
    """Credit points for the paid orders of a batch by the active earning rule:
    one insert of entries and one account upsert for the whole batch, in the
    caller's transaction. ``orders`` as ``sales.signals.orders_recorded`` sends
    them. Points expire KEHU_LOYALTY_EXPIRY_MONTHS after the order time. An
    order earns at most once (a unique index holds it). Returns the points."""
    rule = EarnRule.objects.filter(active=True).first()
    if rule is None:
        return 0
    earned = []
    for order in orders:
        if order["status"] == "paid":
            points = rule.points_for(order["amount_base"])
            if points > 0:
                earned.append((order, points))
    if not earned:
        return 0
    now = timezone.now()
    added: dict[int, int] = defaultdict(int)
    for order, points in earned:
        added[order["customer_id"]] += points
    balances = ledger.add_to_accounts({pk: (n, n) for pk, n in added.items()}, now)
    # A customer in debt (a refund reversed points already spent) pays it first.
    debts = {pk: added[pk] - balances[pk] for pk in added if balances[pk] < added[pk]}
    earned.sort(key=lambda e: (e[0]["ordered_at"], e[0]["order_id"]))
    by = ledger.user_id(actor)
    channel = str(actor.channel)
    rows = []
    for order, points in earned:
        customer_id, remaining = order["customer_id"], points
        if debts.get(customer_id):
            paid = min(debts[customer_id], points)
            debts[customer_id] -= paid
            remaining -= paid
        rows.append(
            (
                customer_id,
                EntryKind.EARN.value,
                points,
                remaining,
                "",
                channel,
                by,
                order["ordered_at"],
                now,
                order["order_id"],
                order["external_id"][:100],
                ledger.expiry_for(order["ordered_at"]),
                None,
            )
        )
    insert_rows(LoyaltyEntry, ledger.ENTRY_COLUMNS, rows)
    return sum(added.values())


def reverse_for_refund(*, actor: Actor, refund: dict) -> LoyaltyEntry | None:
    """Take back the points an order earned, in proportion to the share of it
    refunded so far: the customer keeps the points of the money they kept,
    rounded down, so a full refund reverses everything and no refund reverses
    more than was earned. Reversed points come from the order's own earning
    first, then from the points that expire first; when the customer already
    spent them, the balance goes negative (docs/decisions.md). ``refund`` as
    ``sales.signals.refund_recorded`` sends it."""
    sums = dict(
        LoyaltyEntry.objects.filter(
            customer_id=refund["customer_id"],
            order_id=refund["order_id"],
            kind__in=[EntryKind.EARN, EntryKind.REVERSE],
        )
        .order_by()
        .values_list("kind")
        .annotate(total=Sum("points"))
    )
    earned = sums.get(EntryKind.EARN, 0)
    reversed_already = -sums.get(EntryKind.REVERSE, 0)
    total = refund["order_total_base"]
    if earned <= 0 or total <= 0:
        return None
    kept = min(max(total - refund["refunded_total_base"], decimal.Decimal(0)), total)
    keep = int((decimal.Decimal(earned) * kept / total).to_integral_value(decimal.ROUND_FLOOR))
    owed = earned - keep - reversed_already
    if owed <= 0:
        return None
    order_ref = (
        LoyaltyEntry.objects.filter(order_id=refund["order_id"], kind=EntryKind.EARN)
        .values_list("order_ref", flat=True)
        .first()
    )
    now = timezone.now()
    account = ledger.locked_account(refund["customer_id"], now)
    return ledger.debit(
        account,
        actor,
        EntryKind.REVERSE,
        owed,
        now,
        order_id=refund["order_id"],
        order_ref=order_ref or "",
    )


def expire_points(*, as_of=None) -> int:
    """Expire what is left of every credit whose expiry time is at or before
    ``as_of`` (default now): one expiry entry per credit, dated at its expiry
    time, in transactions of up to 5,000 credits. Idempotent: an expired credit
    has nothing left. Returns how many credits expired."""
    as_of = as_of or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            done = ledger.expire_due(as_of=as_of, now=timezone.now())
        expired += done
        if not done:
            return expired


# ---- tiers and the earning rule (admins) ------------------------------------------

TIER_FIELDS = ["name", "basis", "threshold", "benefits", "position"]
RULE_FIELDS = ["name", "unit_amount", "points_per_unit", "minimum_amount", "active"]


def _require_admin(actor: Actor) -> None:
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change the loyalty programme."))


def _amount(data, name, errors, cleaned, *, minimum, required) -> None:
    if name not in data:
        if required:
            errors[name] = [_("This field is required.")]
        return
    value = data[name]
    try:
        if isinstance(value, bool) or value in (None, ""):
            raise decimal.InvalidOperation
        number = decimal.Decimal(str(value).strip())
        if not number.is_finite():
            raise decimal.InvalidOperation
    except decimal.InvalidOperation:
        errors[name] = [_("Enter a number.")]
        return
    if number != number.quantize(decimal.Decimal("0.01")) or abs(number) >= 10**12:
        errors[name] = [_("Use at most %(places)d decimal places.") % {"places": 2}]
    elif number < minimum:
        errors[name] = [_("Must be at least %(minimum)s.") % {"minimum": minimum}]
    else:
        cleaned[name] = number


def _whole(data, name, errors, cleaned, *, minimum, required) -> None:
    if name not in data:
        if required:
            errors[name] = [_("This field is required.")]
        return
    value = data[name]
    if isinstance(value, bool) or not str(value).strip().isdigit():
        errors[name] = [_("Enter a whole number.")]
    elif not minimum <= int(value) <= MAX_POINTS:
        errors[name] = [_("Must be at least %(minimum)s.") % {"minimum": minimum}]
    else:
        cleaned[name] = int(value)


def _name(data, errors, cleaned, limit: int, required: bool) -> None:
    if "name" in data or required:
        name = clean_text(str(data.get("name") or ""))
        if not name:
            errors["name"] = [_("This field is required.")]
        elif len(name) > limit:
            errors["name"] = [_("At most %(n)d characters.") % {"n": limit}]
        cleaned["name"] = name


def _clean_tier(data: dict, tier: Tier | None) -> dict:
    creating = tier is None
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    _name(data, errors, cleaned, 50, creating)
    if "basis" in data or creating:
        if data.get("basis", TierBasis.POINTS) not in TierBasis.values:
            errors["basis"] = [_("Use one of: %(types)s.") % {"types": ", ".join(TierBasis.values)}]
        else:
            cleaned["basis"] = data.get("basis", TierBasis.POINTS)
    _amount(data, "threshold", errors, cleaned, minimum=0, required=creating)
    _whole(data, "position", errors, cleaned, minimum=0, required=False)
    if "benefits" in data:
        benefits = str(data.get("benefits") or "").strip()
        if len(benefits) > 2_000:
            errors["benefits"] = [_("At most %(n)d characters.") % {"n": 2_000}]
        cleaned["benefits"] = benefits
    threshold = cleaned.get("threshold")
    basis = cleaned.get("basis", getattr(tier, "basis", TierBasis.POINTS))
    if basis == TierBasis.POINTS and threshold is not None and threshold % 1:
        errors["threshold"] = [_("A points threshold is a whole number.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def tier_save(*, actor: Actor, data: dict, tier: Tier | None = None) -> Tier:
    """Create a tier, or change the fields of ``tier`` sent in ``data``."""
    _require_admin(actor)
    cleaned = _clean_tier(data, tier)
    with transaction.atomic():
        if tier is None:
            tier = Tier.objects.create(**cleaned)
            log_change(tier, ChangeAction.CREATE, actor, diff({}, snapshot(tier, TIER_FIELDS)))
            return tier
        return settings_update(actor, tier, cleaned, TIER_FIELDS)


def tier_delete(*, actor: Actor, tier: Tier) -> None:
    """Tiers are computed, not stored on customers: deleting one moves its
    members to the tier below at once."""
    _require_admin(actor)
    with transaction.atomic():
        log_change(tier, ChangeAction.DELETE, actor, diff(snapshot(tier, TIER_FIELDS), {}))
        tier.delete()


def earn_rule_save(*, actor: Actor, data: dict, rule: EarnRule | None = None) -> EarnRule:
    """Create or change an earning rule; making one active deactivates the
    others (one rule applies at a time). Past earnings keep their points."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    creating = rule is None
    _name(data, errors, cleaned, 100, creating)
    _amount(data, "unit_amount", errors, cleaned, minimum=CENT, required=creating)
    _whole(data, "points_per_unit", errors, cleaned, minimum=1, required=creating)
    _amount(data, "minimum_amount", errors, cleaned, minimum=0, required=False)
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = [_("Use true or false.")]
        else:
            cleaned["active"] = data["active"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if cleaned.get("active", creating):
            for other in EarnRule.objects.select_for_update().filter(active=True):
                if rule is None or other.pk != rule.pk:
                    other.active = False
                    other.save()
                    log_change(other, ChangeAction.UPDATE, actor, {"active": [True, False]})
        if creating:
            rule = EarnRule.objects.create(**cleaned)
            log_change(rule, ChangeAction.CREATE, actor, diff({}, snapshot(rule, RULE_FIELDS)))
            return rule
        return settings_update(actor, rule, cleaned, RULE_FIELDS)
