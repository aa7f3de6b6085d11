"""Every write of the engagement app: behaviour events (batch ingestion, tying an
anonymous visitor to a customer; append-only), interactions and follow-up tasks."""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.bulk import in_values, insert_rows, upsert_rows
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import ChangeAction
from kehu.core.normalize import clean_text, parse_moment
from kehu.core.records import soft_delete, versioned_update
from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer
from kehu.customers.services import as_id, user_who_may_see

from .models import (
    BehaviourEvent,
    Channel,
    Direction,
    EngagementSummary,
    EventType,
    FollowUpTask,
    Interaction,
    Priority,
    TaskStatus,
)

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
    editable = customer_queries.customer_ids_editable_by(
        actor.user, {row[1] for _, row in rows if row[1] is not None}
    )
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


def _add_to_summaries(seen: list[tuple[int, object]], counts: dict | None = None) -> None:
    """Add events (customer, time) to the customers' summaries; ``counts`` says how
    many events each pair stands for when not one."""
    latest: dict[int, list] = {}
    for customer_id, moment in seen:
        entry = latest.setdefault(customer_id, [moment, 0])
        entry[0] = max(entry[0], moment)
        entry[1] += (counts or {}).get(customer_id, 1)
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
        last = events.aggregate(last=Max("occurred_at"))["last"]
        linked = events.update(customer=customer)
        if linked:
            _add_to_summaries([(customer.pk, last)], counts={customer.pk: linked})
            log_change(
                customer,
                ChangeAction.UPDATE,
                actor,
                {"anonymous_events": [anonymous_id, linked]},
            )
    return linked


# ---- interactions and follow-up tasks ------------------------------------------------

INTERACTION_FIELDS = [
    "contact",
    "channel",
    "direction",
    "subject",
    "content",
    "outcome",
    "occurred_at",
    "user",
]
TASK_FIELDS = [
    "title",
    "notes",
    "due_at",
    "remind_at",
    "assignee",
    "priority",
    "status",
    "interaction",
]


def can_log(user, customer: Customer) -> bool:
    """Who may log interactions and set follow-ups: whoever may edit the customer,
    and support staff for the customers they see."""
    if customer_queries.can_edit(user, customer):
        return True
    return roles.effective_role(user) == "support" and customer_queries.can_view(user, customer)


def _require_log(actor: Actor, customer: Customer) -> None:
    if actor.user is not None and not can_log(actor.user, customer):
        raise PermissionDenied(_("You may not record interactions for this customer."))


def _text(data, name, limit, errors, cleaned, required=False, multiline=False):
    if name not in data and not required:
        return
    raw = data.get(name)
    value = "" if raw is None else str(raw)
    value = value.strip() if multiline else clean_text(value)
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > limit:
        errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
    cleaned[name] = value


def _choice(data, name, choices, errors, cleaned):
    if name in data:
        if data[name] not in choices.values:
            errors[name] = [_("Use one of: %(types)s.") % {"types": ", ".join(choices.values)}]
        else:
            cleaned[name] = data[name]


def _moment_field(data, name, errors, cleaned, required=False):
    if name not in data:
        if required:
            errors[name] = [_("This field is required.")]
        return
    if data[name] in (None, "") and not required:
        cleaned[name] = None
        return
    try:
        cleaned[name] = parse_moment(data[name])
    except ValueError as error:
        errors[name] = [str(error)]


def _clean_interaction(data: dict, customer: Customer, creating: bool) -> dict:
    from kehu.customers.models import Contact

    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if creating and "channel" not in data:
        errors["channel"] = [_("This field is required.")]
    _choice(data, "channel", Channel, errors, cleaned)
    _choice(data, "direction", Direction, errors, cleaned)
    _text(data, "subject", 200, errors, cleaned)
    _text(data, "outcome", 200, errors, cleaned)
    _text(data, "content", 10_000, errors, cleaned, multiline=True)
    _moment_field(data, "occurred_at", errors, cleaned)
    if cleaned.get("occurred_at") is None:
        cleaned.pop("occurred_at", None)
    if "contact" in data:
        contact_id = data["contact"]
        if contact_id in (None, ""):
            cleaned["contact"] = None
        else:
            contact = Contact.objects.filter(pk=as_id(contact_id), customer=customer).first()
            if contact is None:
                errors["contact"] = [_("This customer has no contact with this id.")]
            cleaned["contact"] = contact
    if errors:
        raise ValidationError(errors)
    return cleaned


def interaction_create(*, actor: Actor, customer: Customer, data: dict) -> Interaction:
    """Log a call, visit, message … with a customer. ``follow_up`` (optional:
    ``{"title", "due_at", "assignee", "priority"}``) sets a task in the same step."""
    _require_log(actor, customer)
    cleaned = _clean_interaction(data, customer, creating=True)
    follow_up = data.get("follow_up")
    if follow_up not in (None, "", {}) and not isinstance(follow_up, dict):
        raise ValidationError({"follow_up": [_("Send an object.")]})
    with transaction.atomic():
        interaction = Interaction.objects.create(
            customer=customer,
            user=actor.user if getattr(actor.user, "pk", None) else None,
            **cleaned,
        )
        log_change(
            interaction,
            ChangeAction.CREATE,
            actor,
            _created(interaction, INTERACTION_FIELDS),
            parent=customer,
        )
        if follow_up:
            try:
                task_create(
                    actor=actor,
                    customer=customer,
                    data={**follow_up, "interaction": interaction.pk},
                )
            except ValidationError as error:
                raise ValidationError(
                    {f"follow_up.{k}": v for k, v in error.message_dict.items()}
                ) from None
    return interaction


def _created(instance, fields: list[str]) -> dict:
    values = snapshot(instance, fields)
    return {k: [None, v] for k, v in values.items() if v not in ("", None)}


def interaction_update(
    *, actor: Actor, interaction: Interaction, data: dict, version
) -> Interaction:
    _require_log(actor, interaction.customer)
    cleaned = _clean_interaction(data, interaction.customer, creating=False)
    return versioned_update(
        actor, interaction, cleaned, version, INTERACTION_FIELDS, parent=interaction.customer
    )


def interaction_delete(*, actor: Actor, interaction: Interaction) -> None:
    _require_log(actor, interaction.customer)
    soft_delete(actor, interaction, parent=interaction.customer)


def _clean_task(data: dict, customer: Customer, creating: bool, actor: Actor) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    _text(data, "title", 200, errors, cleaned, required=creating)
    _text(data, "notes", 5_000, errors, cleaned, multiline=True)
    _moment_field(data, "due_at", errors, cleaned, required=creating)
    _moment_field(data, "remind_at", errors, cleaned)
    _choice(data, "priority", Priority, errors, cleaned)
    if "status" in data:
        errors["status"] = [_("Complete, reopen or cancel a task with its own action.")]
    if "assignee" in data or creating:
        assignee_id = data.get("assignee")
        if assignee_id in (None, ""):
            assignee_id = actor.user if getattr(actor.user, "pk", None) else customer.owner
        try:
            cleaned["assignee"] = user_who_may_see(assignee_id, customer)
        except ValueError as error:
            errors["assignee"] = [str(error)]
    if "interaction" in data and data["interaction"] not in (None, ""):
        interaction = Interaction.objects.filter(
            pk=as_id(data["interaction"]), customer=customer
        ).first()
        if interaction is None:
            errors["interaction"] = [_("This customer has no interaction with this id.")]
        cleaned["interaction"] = interaction
    due, remind = cleaned.get("due_at"), cleaned.get("remind_at")
    if due and remind and remind > due:
        errors["remind_at"] = [_("A reminder comes before the due time.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def task_create(*, actor: Actor, customer: Customer, data: dict) -> FollowUpTask:
    _require_log(actor, customer)
    cleaned = _clean_task(data, customer, creating=True, actor=actor)
    with transaction.atomic():
        task = FollowUpTask.objects.create(customer=customer, **cleaned)
        log_change(task, ChangeAction.CREATE, actor, _created(task, TASK_FIELDS), parent=customer)
    return task


def can_work_task(user, task: FollowUpTask) -> bool:
    return task.assignee_id == user.pk or customer_queries.can_edit(user, task.customer)


def task_update(*, actor: Actor, task: FollowUpTask, data: dict, version) -> FollowUpTask:
    if actor.user is not None and not can_work_task(actor.user, task):
        raise PermissionDenied(_("You may not change this task."))
    cleaned = _clean_task(data, task.customer, creating=False, actor=actor)

    def rearm(current: FollowUpTask) -> None:
        # A reminder moved to a new time goes out again at that time.
        if "remind_at" in cleaned and current.remind_at != task.remind_at:
            current.reminded_at = None

    return versioned_update(
        actor, task, cleaned, version, TASK_FIELDS, parent=task.customer, adjust=rearm
    )


def task_set_status(*, actor: Actor, task: FollowUpTask, status: str) -> FollowUpTask:
    """Complete (``done``), cancel, or reopen (``open``) a task."""
    if actor.user is not None and not can_work_task(actor.user, task):
        raise PermissionDenied(_("You may not change this task."))
    if status not in TaskStatus.values:
        raise ValidationError(
            {"status": [_("Use one of: %(types)s.") % {"types": ", ".join(TaskStatus.values)}]}
        )
    with transaction.atomic():
        current = FollowUpTask.objects.select_for_update().get(pk=task.pk)
        if current.status == status:
            return current
        before = snapshot(current, ["status", "done_at"])
        current.status = status
        current.done_at = timezone.now() if status == TaskStatus.DONE else None
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        log_change(
            current,
            ChangeAction.UPDATE,
            actor,
            diff(before, snapshot(current, ["status", "done_at"])),
            parent=current.customer,
        )
    return current


def task_delete(*, actor: Actor, task: FollowUpTask) -> None:
    if actor.user is not None and not can_work_task(actor.user, task):
        raise PermissionDenied(_("You may not change this task."))
    soft_delete(actor, task, parent=task.customer)


# ---- reminders ------------------------------------------------------------------------


def pending_reminders(now=None):
    """Open tasks whose reminder time has come and that were not reminded yet."""
    return FollowUpTask.objects.filter(
        status=TaskStatus.OPEN,
        remind_at__isnull=False,
        remind_at__lte=now or timezone.now(),
        reminded_at__isnull=True,
    )


def reminders_send(*, now=None, limit: int = 5000) -> dict:
    """Send the reminders that are due: each assignee gets one email listing theirs
    (when KEHU_REMINDER_EMAILS is on and they have an address), and every due task
    is marked reminded, so that a reminder goes out once. In the app, due
    reminders show in the assignee's follow-ups whether or not email is on.
    Returns counts."""
    now = now or timezone.now()
    due = list(
        pending_reminders(now)
        .select_related("customer", "assignee")
        .order_by("remind_at", "id")[:limit]
    )
    if not due:
        return {"reminded": 0, "emails": 0}
    by_assignee: dict[int, list[FollowUpTask]] = {}
    for task in due:
        by_assignee.setdefault(task.assignee_id, []).append(task)
    emails = 0
    if settings.KEHU_REMINDER_EMAILS:
        for tasks in by_assignee.values():
            emails += _email_reminders(tasks[0].assignee, tasks)
    FollowUpTask.objects.filter(pk__in_array=[t.pk for t in due]).update(reminded_at=now)
    return {"reminded": len(due), "emails": emails}


def _email_reminders(user, tasks: list[FollowUpTask]) -> int:
    if not user.email or not user.is_active:
        return 0
    from django.core.mail import send_mail
    from django.utils import translation

    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        lines = [
            _("%(due)s · %(title)s · %(customer)s")
            % {
                "due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M"),
                "title": task.title,
                "customer": task.customer.name,
            }
            for task in tasks
        ]
        subject = _("Kehu: %(n)d follow-up(s) to do") % {"n": len(tasks)}
        body = "\n".join([_("Reminder of your follow-ups:"), "", *lines])
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:
        # The mail server is down: the reminder still shows in the app.
        return 0
    return 1
