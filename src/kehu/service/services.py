"""Every write of feedback tickets: validation, workflow, SLA, change log, permissions."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import ChangeAction
from kehu.core.normalize import clean_text
from kehu.core.records import versioned_update
from kehu.customers import queries as customer_queries
from kehu.customers.models import Customer
from kehu.customers.services import user_who_may_see

from .models import TRANSITIONS, Severity, Ticket, TicketCause, TicketState, TicketType

TICKET_FIELDS = [
    "type",
    "cause",
    "severity",
    "subject",
    "description",
    "state",
    "assignee",
    "due_at",
    "reply",
]


def can_handle(user, customer: Customer) -> bool:
    """Who may open and work tickets: whoever may edit the customer, and support."""
    if customer_queries.can_edit(user, customer):
        return True
    return roles.effective_role(user) == "support" and customer_queries.can_view(user, customer)


def _require(actor: Actor, customer: Customer) -> None:
    if actor.user is not None and not can_handle(actor.user, customer):
        raise PermissionDenied(_("You may not handle this customer's tickets."))


def _clean(data: dict, customer: Customer, creating: bool) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for name, choices in (("type", TicketType), ("severity", Severity)):
        if name in data:
            if data[name] not in choices.values:
                errors[name] = [_("Use one of: %(types)s.") % {"types": ", ".join(choices.values)}]
            else:
                cleaned[name] = data[name]
        elif creating and name == "type":
            errors[name] = [_("This field is required.")]
    if "subject" in data or creating:
        subject = clean_text(data.get("subject", ""))
        if not subject:
            errors["subject"] = [_("This field is required.")]
        elif len(subject) > 200:
            errors["subject"] = [_("At most %(n)d characters.") % {"n": 200}]
        cleaned["subject"] = subject
    if "description" in data:
        description = str(data.get("description") or "").strip()
        if len(description) > 10_000:
            errors["description"] = [_("At most %(n)d characters.") % {"n": 10_000}]
        cleaned["description"] = description
    if "cause" in data:
        cause = data["cause"]
        if cause in (None, ""):
            cleaned["cause"] = None
        else:
            found = TicketCause.objects.filter(key=str(cause), active=True).first()
            if found is None:
                errors["cause"] = [_("There is no active cause with this key.")]
            cleaned["cause"] = found
    if "assignee" in data:
        cleaned["assignee"] = _assignee(data["assignee"], customer, errors)
    for name in ("state", "due_at", "reply"):
        if name in data:
            errors[name] = [
                _("Change the state with a transition; the due time follows the severity.")
            ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _assignee(value, customer: Customer, errors: dict):
    if value in (None, ""):
        return None
    try:
        return user_who_may_see(value, customer)
    except ValueError as error:
        errors["assignee"] = [str(error)]
        return None


def ticket_create(*, actor: Actor, customer: Customer, data: dict, channel: str = "") -> Ticket:
    """Open a ticket; its SLA due time follows from its severity."""
    _require(actor, customer)
    cleaned = _clean(data, customer, creating=True)
    opened = timezone.now()
    severity = cleaned.get("severity", Severity.NORMAL)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            customer=customer,
            opened_at=opened,
            due_at=Ticket.due_for(severity, opened),
            state=TicketState.ASSIGNED if cleaned.get("assignee") else TicketState.NEW,
            channel=channel or str(actor.channel),
            **cleaned,
        )
        after = snapshot(ticket, TICKET_FIELDS)
        log_change(
            ticket,
            ChangeAction.CREATE,
            actor,
            {k: [None, v] for k, v in after.items() if v not in ("", None)},
            parent=customer,
        )
    return ticket


def ticket_update(*, actor: Actor, ticket: Ticket, data: dict, version) -> Ticket:
    _require(actor, ticket.customer)
    cleaned = _clean(data, ticket.customer, creating=False)

    def follow(current: Ticket) -> None:
        # The due time follows the severity; naming an assignee assigns a new ticket.
        if "severity" in cleaned:
            current.due_at = Ticket.due_for(current.severity, current.opened_at)
        if cleaned.get("assignee") and current.state == TicketState.NEW:
            current.state = TicketState.ASSIGNED

    return versioned_update(
        actor, ticket, cleaned, version, TICKET_FIELDS, parent=ticket.customer, adjust=follow
    )


def ticket_transition(*, actor: Actor, ticket: Ticket, to: str, data: dict | None = None) -> Ticket:
    """Move a ticket along its workflow (new → assigned → in progress → resolved →
    closed; resolved or closed back to in progress reopens it). Assigning needs
    an ``assignee``; resolving records the ``reply`` given to the customer."""
    _require(actor, ticket.customer)
    data = data or {}
    if to not in TicketState.values:
        raise ValidationError(
            {"to": [_("Use one of: %(types)s.") % {"types": ", ".join(TicketState.values)}]}
        )
    with transaction.atomic():
        current = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if to not in TRANSITIONS[current.state]:
            raise ValidationError(
                {
                    "to": [
                        _("A %(state)s ticket cannot move to %(to)s.")
                        % {"state": current.get_state_display(), "to": TicketState(to).label}
                    ]
                }
            )
        errors: dict[str, list[str]] = {}
        before = snapshot(current, TICKET_FIELDS)
        now = timezone.now()
        if to == TicketState.ASSIGNED:
            assignee = _assignee(
                data.get("assignee") or getattr(current.assignee, "pk", None),
                current.customer,
                errors,
            )
            if assignee is None and not errors:
                errors["assignee"] = [_("Say whom to assign the ticket to.")]
            current.assignee = assignee
        if to == TicketState.IN_PROGRESS and current.assignee is None and actor.user is not None:
            current.assignee = actor.user
        if to == TicketState.RESOLVED:
            reply = str(data.get("reply") or "").strip()
            if not reply:
                errors["reply"] = [_("Record the reply given to the customer.")]
            elif len(reply) > 10_000:
                errors["reply"] = [_("At most %(n)d characters.") % {"n": 10_000}]
            current.reply = reply
            current.resolved_at = now
        if to == TicketState.CLOSED:
            current.closed_at = now
        if to == TicketState.IN_PROGRESS and current.state in (
            TicketState.RESOLVED,
            TicketState.CLOSED,
        ):
            current.resolved_at = current.closed_at = None  # reopened
        if errors:
            raise ValidationError(errors)
        current.state = to
        current.version += 1
        current.updated_at = now
        current.save()
        log_change(
            current,
            ChangeAction.UPDATE,
            actor,
            diff(before, snapshot(current, TICKET_FIELDS)),
            parent=current.customer,
        )
    return current
