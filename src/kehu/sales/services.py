"""Every write of products, orders and refunds: validation, permissions, change log,
and the customers' purchase figures, in one place."""

import datetime
import decimal
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.accounts.models import Role
from kehu.core.bulk import in_values, insert_returning, insert_rows, upsert_rows
from kehu.core.changelog import Actor, diff, log_change, log_created_in_bulk, snapshot
from kehu.core.models import ChangeAction
from kehu.core.normalize import clean_text, parse_moment
from kehu.core.records import soft_delete, versioned_update
from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer

from . import signals
from .models import Order, OrderLine, OrderStatus, Product, PurchaseSummary, Refund

MAX_BATCH = 10_000
MAX_LINES = 1_000
CENT = decimal.Decimal("0.01")
ZERO = decimal.Decimal(0)
MONEY_LIMIT = decimal.Decimal("1e13")
# Orders that count as purchases in the customers' figures.
COUNTED = [OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED]


# ---- value parsing -----------------------------------------------------------


_QUANTUM = {places: decimal.Decimal(1).scaleb(-places) for places in range(0, 7)}


def _decimal(value, *, minimum=None, places=2) -> decimal.Decimal:
    if type(value) is int:  # the common quantity: exact, no places to check
        number = decimal.Decimal(value)
        if abs(number) >= MONEY_LIMIT:
            raise ValueError(_("Enter a number."))
    else:
        if isinstance(value, bool) or value in (None, ""):
            raise ValueError(_("Enter a number."))
        try:
            # Decimal itself ignores surrounding whitespace.
            number = decimal.Decimal(value if type(value) is str else str(value))
        except decimal.InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite() or abs(number) >= MONEY_LIMIT:
            raise ValueError(_("Enter a number."))
        if number != number.quantize(_QUANTUM[places]):
            raise ValueError(_("Use at most %(places)d decimal places.") % {"places": places})
    if minimum is not None and number < minimum:
        raise ValueError(_("Must be at least %(minimum)s.") % {"minimum": minimum})
    return number


def base_rate(currency: str) -> decimal.Decimal:
    """Base-currency units per unit of ``currency``; ValueError if none is configured."""
    if currency == settings.KEHU_BASE_CURRENCY:
        return decimal.Decimal(1)
    rate = settings.KEHU_EXCHANGE_RATES.get(currency)
    if rate is None:
        raise ValueError(
            _("No exchange rate to %(base)s is configured for %(currency)s.")
            % {"base": settings.KEHU_BASE_CURRENCY, "currency": currency}
        )
    return decimal.Decimal(str(rate))


def _currency(value) -> str:
    code = clean_text(value or settings.KEHU_BASE_CURRENCY).upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValueError(_("Use a three-letter ISO 4217 code such as CNY."))
    base_rate(code)
    return code


# ---- products ------------------------------------------------------------------

PRODUCT_FIELDS = ["sku", "name", "category", "list_price", "currency", "active"]


def can_edit_catalogue(user) -> bool:
    return roles.effective_role(user) in (Role.ADMIN, Role.MANAGER)


def _clean_product(data: dict, instance: Product | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for name in ("sku", "name", "category"):
        if name in data or instance is None:
            value = clean_text(data.get(name, ""))
            limit = Product._meta.get_field(name).max_length
            if name != "category" and not value:
                errors[name] = [_("This field is required.")]
            elif len(value) > limit:
                errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
            cleaned[name] = value
    if "list_price" in data or instance is None:
        try:
            cleaned["list_price"] = _decimal(data.get("list_price"), minimum=0)
        except ValueError as error:
            errors["list_price"] = [str(error)]
    if "currency" in data or instance is None:
        try:
            cleaned["currency"] = _currency(data.get("currency"))
        except ValueError as error:
            errors["currency"] = [str(error)]
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = [_("Use true or false.")]
        cleaned["active"] = data["active"]
    sku = cleaned.get("sku")
    if sku and Product.all_objects.filter(sku=sku).exclude(pk=getattr(instance, "pk", None)):
        errors["sku"] = [_("Another product has this SKU.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def product_create(*, actor: Actor, data: dict) -> Product:
    if actor.user is not None and not can_edit_catalogue(actor.user):
        raise PermissionDenied(_("Only admins and managers edit the product catalogue."))
    cleaned = _clean_product(data)
    with transaction.atomic():
        product = Product.objects.create(**cleaned)
        log_change(product, ChangeAction.CREATE, actor, diff({}, snapshot(product, PRODUCT_FIELDS)))
    return product


def product_update(*, actor: Actor, product: Product, data: dict, version) -> Product:
    """Change the fields sent; ``version`` is the one the editor read."""
    if actor.user is not None and not can_edit_catalogue(actor.user):
        raise PermissionDenied(_("Only admins and managers edit the product catalogue."))
    cleaned = _clean_product(data, instance=product)
    return versioned_update(actor, product, cleaned, version, PRODUCT_FIELDS)


def product_delete(*, actor: Actor, product: Product) -> None:
    """Soft delete; past orders keep their lines."""
    if actor.user is not None and not can_edit_catalogue(actor.user):
        raise PermissionDenied(_("Only admins and managers edit the product catalogue."))
    soft_delete(actor, product)


# ---- orders ----------------------------------------------------------------------


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass
class _Draft:
    index: int
    external_id: str
    customer_id: int
    ordered_at: datetime.datetime
    currency: str
    status: str
    lines: list[tuple[int, decimal.Decimal, decimal.Decimal, decimal.Decimal, decimal.Decimal]]
    cancel_reason: str = ""
    amount: decimal.Decimal = decimal.Decimal(0)
    rate: decimal.Decimal = decimal.Decimal(1)  # to the base currency

    def __post_init__(self):
        self.rate = base_rate(self.currency)
        self.amount = sum((line[4] for line in self.lines), decimal.Decimal(0))


def _draft(index: int, item, products: dict[str, Product]) -> tuple[_Draft | None, dict]:
    """One order of a batch, checked: a draft, or the errors by field."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": [_("Each order must be a JSON object.")]}
    errors: dict[str, list[str]] = {}
    external_id = clean_text(item.get("external_id", ""))
    if not external_id:
        errors["external_id"] = [_("This field is required.")]
    elif len(external_id) > 100:
        errors["external_id"] = [_("At most %(n)d characters.") % {"n": 100}]
    customer = item.get("customer")
    if (
        isinstance(customer, bool)
        or not isinstance(customer, int | str)
        or not str(customer).isdigit()
    ):
        errors["customer"] = [_("Send the customer's id.")]
    moment = currency = None
    try:
        moment = parse_moment(item.get("ordered_at"))
    except ValueError as error:
        errors["ordered_at"] = [str(error)]
    try:
        currency = _currency(item.get("currency"))
    except ValueError as error:
        errors["currency"] = [str(error)]
    status = item.get("status") or OrderStatus.PAID
    if status not in (OrderStatus.PAID, OrderStatus.CANCELLED):
        errors["status"] = [_("A new order is paid or cancelled; refunds are recorded as refunds.")]
    reason = item.get("cancel_reason")
    reason = "" if reason is None else reason
    if not isinstance(reason, str):
        errors["cancel_reason"] = [_("Send the reason as text.")]
    else:
        reason = clean_text(reason)
        if len(reason) > 100:
            errors["cancel_reason"] = [_("At most %(n)d characters.") % {"n": 100}]
        elif reason and status != OrderStatus.CANCELLED:
            errors["cancel_reason"] = [_("Only a cancelled order has a cancellation reason.")]
    lines = item.get("lines")
    drafted = []
    if not isinstance(lines, list) or not lines:
        errors["lines"] = [_("Send at least one line.")]
    elif len(lines) > MAX_LINES:
        errors["lines"] = [_("At most %(n)d lines per order.") % {"n": MAX_LINES}]
    else:
        for n, line in enumerate(lines):
            line_errors, drafted_line = _draft_line(line, products)
            for name, messages in line_errors.items():
                errors[f"lines.{n}.{name}"] = messages
            if drafted_line:
                drafted.append(drafted_line)
    if errors:
        return None, errors
    return (
        _Draft(index, external_id, int(customer), moment, currency, status, drafted, reason),
        {},
    )


def _draft_line(line, products: dict[str, Product]) -> tuple[dict, tuple | None]:
    if not isinstance(line, dict):
        return {"non_field_errors": [_("Each line must be a JSON object.")]}, None
    errors: dict[str, list[str]] = {}
    sku = line.get("sku", "")
    # Most SKUs arrive clean: look them up as sent before cleaning.
    product = products.get(sku) if type(sku) is str else None
    if product is None:
        product = products.get(clean_text(sku))
        if product is None:
            errors["sku"] = [_("There is no product with this SKU.")]
    quantity = unit_price = discount = None
    try:
        quantity = _decimal(line.get("quantity"), places=3)
        if quantity <= 0:
            errors["quantity"] = [_("Must be more than 0.")]
    except ValueError as error:
        errors["quantity"] = [str(error)]
    raw = line.get("unit_price")
    if raw in (None, ""):
        if product is not None:
            unit_price = product.list_price
        else:
            errors["unit_price"] = [_("Enter a number.")]
    else:
        try:
            unit_price = _decimal(raw, minimum=0, places=2)
        except ValueError as error:
            errors["unit_price"] = [str(error)]
    raw = line.get("discount")
    if raw in (None, ""):
        discount = ZERO
    else:
        try:
            discount = _decimal(raw, minimum=0, places=2)
        except ValueError as error:
            errors["discount"] = [str(error)]
    if errors:
        return errors, None
    gross = (quantity * unit_price).quantize(CENT, decimal.ROUND_HALF_UP)
    if discount > gross:
        return {"discount": [_("The discount is larger than the line's price.")]}, None
    return {}, (product.pk, quantity, unit_price, discount, gross - discount)


def order_batch_ingest(*, actor: Actor, orders) -> IngestResult:
    """Store a batch of orders (up to MAX_BATCH). Idempotent by ``external_id``: an
    order seen before, or earlier in the same batch, counts as a duplicate and
    changes nothing. Each invalid order is rejected with its index and field errors;
    the valid ones are kept. Raises ValidationError only for a malformed batch, and
    PermissionDenied for a user who may write no orders at all."""
    if not isinstance(orders, list):
        raise ValidationError({"orders": [_("Send a list of orders.")]})
    if len(orders) > MAX_BATCH:
        raise ValidationError({"orders": [_("At most %(n)d orders per batch.") % {"n": MAX_BATCH}]})
    user = actor.user
    if user is not None and roles.write_scope(user) == "none":
        raise PermissionDenied(_("Your role may not record orders."))
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _ingest(actor, orders)
        except IntegrityError:
            # Another request stored one of these external ids meanwhile: the
            # second pass sees it as a duplicate.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _ingest(actor: Actor, orders: list) -> IngestResult:
    result = IngestResult()
    sent = {
        line.get("sku", "")
        for item in orders
        if isinstance(item, dict) and isinstance(item.get("lines"), list)
        for line in item["lines"]
        if isinstance(line, dict) and isinstance(line.get("sku", ""), str | int | float)
    }
    skus = {clean_text(sku) for sku in sent}
    # Inactive products still count: a batch may carry past orders.
    products = {p.sku: p for p in _in_chunks(Product.objects.all(), "sku", skus)}
    drafts: list[_Draft] = []
    for index, item in enumerate(orders):
        draft, errors = _draft(index, item, products)
        if errors:
            result.rejected.append({"index": index, "errors": errors})
        else:
            drafts.append(draft)
    known = set(_order_ids_by_external_id({d.external_id for d in drafts}))
    editable = customer_queries.customer_ids_editable_by(
        actor.user, {d.customer_id for d in drafts}
    )
    fresh: list[_Draft] = []
    for draft in drafts:
        if draft.external_id in known:
            result.duplicates += 1
        elif draft.customer_id not in editable:
            result.rejected.append(
                {
                    "index": draft.index,
                    "errors": {"customer": [_("There is no customer with this id you may edit.")]},
                }
            )
        else:
            known.add(draft.external_id)
            fresh.append(draft)
    result.rejected.sort(key=lambda r: r["index"])
    if fresh:
        result.order_ids = _store(actor, fresh)
        result.created = len(fresh)
        _add_to_purchase_figures(fresh)
        _announce_orders(actor, fresh, result.order_ids)
    return result


def _announce_orders(actor: Actor, drafts: list[_Draft], order_ids: list[int]) -> None:
    """One ``orders_recorded`` per batch, from what is in memory (see signals.py)."""
    signals.orders_recorded.send(
        sender=Order,
        actor=actor,
        orders=[
            {
                "order_id": order_id,
                "external_id": d.external_id,
                "customer_id": d.customer_id,
                "status": str(d.status),
                "ordered_at": d.ordered_at,
                "amount_base": (d.amount * d.rate).quantize(CENT, decimal.ROUND_HALF_UP),
            }
            for d, order_id in zip(drafts, order_ids, strict=True)
        ],
    )


def _in_chunks(queryset, field_name: str, values, size: int = 5000) -> list:
    """The rows of ``queryset`` whose ``field_name`` is in ``values``, queried in
    chunks that stay below SQLite's limit of variables per statement (32,766)."""
    values = sorted(values)
    rows: list = []
    for start in range(0, len(values), size):
        rows += queryset.filter(**{f"{field_name}__in": values[start : start + size]})
    return rows


def _order_ids_by_external_id(external_ids) -> dict[str, int]:
    """Orders (deleted ones too) by external id, in one query."""
    condition, params = in_values("external_id", external_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, id FROM {Order._meta.db_table} WHERE {condition}", params
        )
        return dict(cursor.fetchall())


def _store(actor: Actor, drafts: list[_Draft]) -> list[int]:
    """Insert the drafts' orders, lines and change log entries; returns the order ids."""
    now = timezone.now()
    ids = dict(
        insert_returning(
            Order,
            [
                "external_id",
                "customer_id",
                "ordered_at",
                "currency",
                "status",
                "cancel_reason",
                "amount",
                "refunded_amount",
                "base_rate",
                "created_at",
                "updated_at",
                "version",
            ],
            [
                (
                    d.external_id,
                    d.customer_id,
                    d.ordered_at,
                    d.currency,
                    str(d.status),
                    d.cancel_reason,
                    d.amount,
                    decimal.Decimal(0),
                    d.rate,
                    now,
                    now,
                    1,
                )
                for d in drafts
            ],
            returning=["external_id", "id"],
        )
    )
    insert_rows(
        OrderLine,
        ["order_id", "product_id", "quantity", "unit_price", "discount", "amount"],
        (
            (ids[d.external_id], product_id, quantity, unit_price, discount, amount)
            for d in drafts
            for product_id, quantity, unit_price, discount, amount in d.lines
        ),
    )
    log_created_in_bulk(
        Order,
        Customer,
        actor,
        (
            (
                ids[d.external_id],
                d.external_id,
                d.customer_id,
                {
                    "external_id": d.external_id,
                    "amount": f"{d.amount} {d.currency}",
                    "status": str(d.status),
                    "lines": len(d.lines),
                }
                | ({"cancel_reason": d.cancel_reason} if d.cancel_reason else {}),
            )
            for d in drafts
        ),
        now,
    )
    return [ids[d.external_id] for d in drafts]


def order_create(*, actor: Actor, data: dict) -> Order:
    """One order, by the rules of a batch; raises ValidationError for a duplicate too."""
    result = order_batch_ingest(actor=actor, orders=[data])
    if result.rejected:
        raise ValidationError(result.rejected[0]["errors"])
    if result.duplicates:
        raise ValidationError({"external_id": [_("An order with this external id exists.")]})
    return Order.objects.get(pk=result.order_ids[0])


# ---- refunds ---------------------------------------------------------------------


def refund_create(*, actor: Actor, order: Order, data: dict) -> Refund:
    """Record money paid back (and goods returned) for an order; the order's status
    and the customer's figures follow."""
    if actor.user is not None and not customer_queries.can_edit(actor.user, order.customer):
        raise PermissionDenied(_("You may not edit this customer's orders."))
    errors: dict[str, list[str]] = {}
    try:
        amount = _decimal(data.get("amount"), minimum=decimal.Decimal("0.01"))
    except ValueError as error:
        errors["amount"] = [str(error)]
        amount = None
    try:
        refunded_at = parse_moment(data.get("refunded_at") or timezone.now())
    except ValueError as error:
        errors["refunded_at"] = [str(error)]
    reason = clean_text(data.get("reason", ""))
    if len(reason) > 300:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": 300}]
    external_id = clean_text(data.get("external_id", "")) or None
    if external_id and Refund.all_objects.filter(external_id=external_id).exists():
        errors["external_id"] = [_("A refund with this external id exists.")]
    is_return = data.get("is_return", False)
    if not isinstance(is_return, bool):
        errors["is_return"] = [_("Use true or false.")]
    with transaction.atomic():
        current = Order.objects.select_for_update().get(pk=order.pk)
        if current.status == OrderStatus.CANCELLED:
            errors["non_field_errors"] = [_("A cancelled order cannot be refunded.")]
        elif amount is not None and amount > current.amount - current.refunded_amount:
            errors["amount"] = [
                _("At most %(left)s %(currency)s is left to refund.")
                % {"left": current.amount - current.refunded_amount, "currency": current.currency}
            ]
        if errors:
            raise ValidationError(errors)
        refund = Refund.objects.create(
            order=current,
            external_id=external_id,
            refunded_at=refunded_at,
            amount=amount,
            reason=reason,
            is_return=is_return,
        )
        before = snapshot(current, ["refunded_amount", "status"])
        current.refunded_amount += amount
        current.status = (
            OrderStatus.REFUNDED
            if current.refunded_amount >= current.amount
            else OrderStatus.PARTIALLY_REFUNDED
        )
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        log_change(
            refund,
            ChangeAction.CREATE,
            actor,
            {"amount": [None, str(amount)]},
            parent=current.customer,
        )
        log_change(
            current,
            ChangeAction.UPDATE,
            actor,
            diff(before, snapshot(current, ["refunded_amount", "status"])),
            parent=current.customer,
        )
        refresh_purchase_figures({current.customer_id})
        signals.refund_recorded.send(
            sender=Order,
            actor=actor,
            refund={
                "refund_id": refund.pk,
                "order_id": current.pk,
                "customer_id": current.customer_id,
                "refunded_at": refunded_at,
                **{
                    key: (value * current.base_rate).quantize(CENT, decimal.ROUND_HALF_UP)
                    for key, value in (
                        ("amount_base", amount),
                        ("refunded_total_base", current.refunded_amount),
                        ("order_total_base", current.amount),
                    )
                },
            },
        )
    return refund


# ---- purchase figures -----------------------------------------------------------------


def _add_to_purchase_figures(drafts: list[_Draft]) -> None:
    """Add new orders to their customers' summaries in place: no order is read
    again, and concurrent batches add up (an upsert per customer)."""
    added: dict[int, list] = {}
    for d in drafts:
        if d.status not in COUNTED:
            continue
        figures = added.setdefault(
            d.customer_id, [0, decimal.Decimal(0), d.ordered_at, d.ordered_at]
        )
        figures[0] += 1
        figures[1] += d.amount * d.rate
        figures[2] = min(figures[2], d.ordered_at)
        figures[3] = max(figures[3], d.ordered_at)
    upsert_rows(
        PurchaseSummary,
        ["customer_id", "order_count", "total_spent", "first_purchase_at", "last_purchase_at"],
        [
            (pk, n, total.quantize(CENT), first, last)
            for pk, (n, total, first, last) in added.items()
        ],
        conflict="customer_id",
        assignments=(
            "order_count = s.order_count + excluded.order_count,"
            " total_spent = s.total_spent + excluded.total_spent,"
            " first_purchase_at = CASE WHEN s.first_purchase_at IS NULL"
            " OR excluded.first_purchase_at < s.first_purchase_at"
            " THEN excluded.first_purchase_at ELSE s.first_purchase_at END,"
            " last_purchase_at = CASE WHEN s.last_purchase_at IS NULL"
            " OR excluded.last_purchase_at > s.last_purchase_at"
            " THEN excluded.last_purchase_at ELSE s.last_purchase_at END"
        ),
    )


def refresh_purchase_figures(customer_ids) -> None:
    """Recompute the purchase summaries of these customers from their orders: one
    grouped read and one upsert per 900 customers."""
    net = ExpressionWrapper(
        (F("amount") - F("refunded_amount")) * F("base_rate"),
        output_field=DecimalField(max_digits=24, decimal_places=8),
    )
    ids = sorted(customer_ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        figures = {
            row["customer_id"]: row
            for row in Order.objects.filter(customer_id__in=chunk, status__in=COUNTED)
            .order_by()
            .values("customer_id")
            .annotate(
                n=Count("pk"), total=Sum(net), first=Min("ordered_at"), last=Max("ordered_at")
            )
        }
        upsert_rows(
            PurchaseSummary,
            ["customer_id", "order_count", "total_spent", "first_purchase_at", "last_purchase_at"],
            [
                (
                    pk,
                    figures.get(pk, {}).get("n", 0),
                    (figures.get(pk, {}).get("total") or decimal.Decimal(0)).quantize(CENT),
                    figures.get(pk, {}).get("first"),
                    figures.get(pk, {}).get("last"),
                )
                for pk in chunk
            ],
            conflict="customer_id",
            assignments=", ".join(
                f"{c} = excluded.{c}"
                for c in ("order_count", "total_spent", "first_purchase_at", "last_purchase_at")
            ),
        )
