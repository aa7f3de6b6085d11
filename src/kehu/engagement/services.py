"""Every write of behaviour events: batch ingestion and tying an anonymous visitor
to a customer. Events are append-only."""

import json
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.bulk import in_values, insert_rows, upsert_rows
from kehu.core.changelog import Actor, log_change
from kehu.core.models import ChangeAction
from kehu.core.normalize import clean_text, parse_moment
from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer

from .models import BehaviourEvent, EngagementSummary, EventType

MAX_BATCH = 10_000
MAX_PROPERTIES_BYTES = 8_000
TYPES = set(EventType.values)


@dataclass
class EventIngestResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "duplicates": self.duplicates, "rejected": self.rejected}


def _checked(item) -> tuple[tuple | None, dict]:
    """(external_id, customer_id, anonymous_id, type, occurred_at, properties text)."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": [_("Each event must be a JSON object.")]}
    errors: dict[str, list[str]] = {}
    external_id = clean_text(item.get("external_id", ""))
    if not external_id:
        errors["external_id"] = [_("This field is required.")]
    elif len(external_id) > 100:
        errors["external_id"] = [_("At most %(n)d characters.") % {"n": 100}]
    customer = item.get("customer")
    anonymous = clean_text(item.get("anonymous_id", ""))
    if customer in (None, ""):
        customer = None
        if not anonymous:
            errors["customer"] = [_("Send the customer's id or an anonymous id.")]
    elif isinstance(customer, bool) or not str(customer).isdigit():
        errors["customer"] = [_("Send the customer's id.")]
    if len(anonymous) > 100:
        errors["anonymous_id"] = [_("At most %(n)d characters.") % {"n": 100}]
    kind = item.get("type")
    if kind not in TYPES:
        errors["type"] = [_("Use one of: %(types)s.") % {"types": ", ".join(sorted(TYPES))}]
    moment = None
    try:
        moment = parse_moment(item.get("occurred_at"))
    except ValueError as error:
        errors["occurred_at"] = [str(error)]
    properties = item.get("properties", {})
    text = "{}"
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        errors["properties"] = [_("Send an object.")]
    else:
        text = json.dumps(properties, ensure_ascii=False)
        if len(text.encode()) > MAX_PROPERTIES_BYTES:
            errors["properties"] = [
                _("At most %(n)d bytes of properties.") % {"n": MAX_PROPERTIES_BYTES}
            ]
    if errors:
        return None, errors
    row = (
        external_id,
        int(customer) if customer is not None else None,
        anonymous,
        kind,
        moment,
        text,
    )
    return row, {}


def event_batch_ingest(*, actor: Actor, events) -> EventIngestResult:
    """Store up to MAX_BATCH events, idempotent by ``external_id``; bad events are
    rejected with their index and field errors, the good ones kept. ValidationError
    only for a malformed batch; PermissionDenied for a role that writes nothing."""
    if not isinstance(events, list):
        raise ValidationError({"events": [_("Send a list of events.")]})
    if len(events) > MAX_BATCH:
        raise ValidationError({"events": [_("At most %(n)d events per batch.") % {"n": MAX_BATCH}]})
    if actor.user is not None and roles.write_scope(actor.user) == "none":
        raise PermissionDenied(_("Your role may not record events."))
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _ingest(actor, events)
        except IntegrityError:
            if attempt:  # a concurrent batch stored some of them: the retry sees duplicates
                raise
    raise AssertionError("unreachable")


def _ingest(actor: Actor, events: list) -> EventIngestResult:
    result = EventIngestResult()
    rows: list[tuple[int, tuple]] = []
    for index, item in enumerate(events):
        row, errors = _checked(item)
        if errors:
            result.rejected.append({"index": index, "errors": errors})
        else:
            rows.append((index, row))
    known = _known_external_ids({row[0] for _, row in rows})
    editable = _editable_customer_ids(actor, {row[1] for _, row in rows if row[1] is not None})
    fresh = []
    for index, row in rows:
        if row[0] in known:
            result.duplicates += 1
        elif row[1] is not None and row[1] not in editable:
            result.rejected.append(
                {
                    "index": index,
                    "errors": {"customer": [_("There is no customer with this id you may edit.")]},
                }
            )
        else:
            known.add(row[0])
            fresh.append(row)
    result.rejected.sort(key=lambda r: r["index"])
    if fresh:
        now = timezone.now()
        insert_rows(
            BehaviourEvent,
            [
                "external_id",
                "customer_id",
                "anonymous_id",
                "type",
                "occurred_at",
                "properties",
                "received_at",
            ],
            [(*row, now) for row in fresh],
        )
        _add_to_summaries([(row[1], row[4]) for row in fresh if row[1] is not None])
        result.created = len(fresh)
    return result


def _known_external_ids(external_ids) -> set[str]:
    condition, params = in_values("external_id", external_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id FROM {BehaviourEvent._meta.db_table} WHERE {condition}", params
        )
        return {row[0] for row in cursor.fetchall()}


def _editable_customer_ids(actor: Actor, ids: set[int]) -> set[int]:
    customers = (
        customer_queries.customers_editable_by(actor.user)
        if actor.user is not None
        else Customer.objects.all()
    )
    ids_list = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(ids_list), 5000):
        found.update(
            customers.filter(pk__in=ids_list[start : start + 5000]).values_list("pk", flat=True)
        )
    return found


def _add_to_summaries(seen: list[tuple[int, object]]) -> None:
    latest: dict[int, list] = {}
    for customer_id, moment in seen:
        entry = latest.setdefault(customer_id, [moment, 0])
        entry[0] = max(entry[0], moment)
        entry[1] += 1
    upsert_rows(
        EngagementSummary,
        ["customer_id", "last_seen_at", "event_count"],
        [(pk, moment, n) for pk, (moment, n) in latest.items()],
        conflict="customer_id",
        assignments=(
            "event_count = s.event_count + excluded.event_count,"
            " last_seen_at = CASE WHEN s.last_seen_at IS NULL"
            " OR excluded.last_seen_at > s.last_seen_at"
            " THEN excluded.last_seen_at ELSE s.last_seen_at END"
        ),
    )


def anonymous_events_link(*, actor: Actor, anonymous_id: str, customer: Customer) -> int:
    """Give an identified visitor's earlier anonymous events to ``customer``;
    returns how many. Logged on the customer."""
    if actor.user is not None and not customer_queries.can_edit(actor.user, customer):
        raise PermissionDenied(_("You may not edit this customer."))
    anonymous_id = clean_text(anonymous_id)
    if not anonymous_id:
        raise ValidationError({"anonymous_id": [_("This field is required.")]})
    with transaction.atomic():
        events = BehaviourEvent.objects.filter(anonymous_id=anonymous_id, customer__isnull=True)
        moments = list(events.values_list("occurred_at", flat=True))
        linked = events.update(customer=customer)
        if linked:
            _add_to_summaries([(customer.pk, m) for m in moments])
            log_change(
                customer,
                ChangeAction.UPDATE,
                actor,
                {"anonymous_events": [anonymous_id, linked]},
            )
    return linked
