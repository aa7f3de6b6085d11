from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts import roles
from kehu.core.views import ui_actor
from kehu.customers import queries as customer_queries
from kehu.customers.models import Tag
from kehu.customers.timeline import Entry

from . import care_services, queries, services
from .models import (
    BehaviourEvent,
    Channel,
    Direction,
    EngagementSummary,
    EventType,
    FollowUpTask,
    Holiday,
    Interaction,
    Priority,
    TaskStatus,
)

RECENT_INTERACTIONS = 20


# Above this many events the behaviour section loads after the page, so that a
# customer with 100,000 events opens as fast as any other.
INLINE_EVENT_LIMIT = 2_000


def customer_behaviour_panel(request, customer) -> dict | None:
    """The behaviour section of the customer 360 page (the page checked access);
    left out for a customer never seen."""
    seen = EngagementSummary.objects.filter(customer=customer).first()
    if seen is None or not seen.event_count:
        return None
    if seen.event_count > INLINE_EVENT_LIMIT:
        return {
            "lazy": True,
            "customer": customer,
            "last_seen_at": seen.last_seen_at,
            "event_count": seen.event_count,
        }
    return _behaviour(customer)


def _behaviour(customer) -> dict:
    summary = queries.behaviour_summary(customer)
    labels = dict(EventType.choices)
    summary["rows"] = [
        (labels.get(kind, kind), by_window[7], by_window[30], by_window[90])
        for kind, by_window in sorted(summary["counts"].items())
    ]
    return summary


@login_required
def customer_behaviour(request, customer_pk):
    """The full behaviour section, loaded by the customer page when it is large."""
    customer = get_object_or_404(
        customer_queries.customers_visible_to(request.user), pk=customer_pk
    )
    return render(request, "engagement/customer_behaviour.html", {"panel": _behaviour(customer)})


def customer_interactions_panel(request, customer) -> dict:
    """Interactions and follow-ups on the customer 360 page, with "Log a call"."""
    # The page has checked that the user sees this customer. Asking again
    # through interactions_visible_to made SQLite list every visible customer's
    # id first (0.27 s at a million).
    interactions = list(
        Interaction.objects.filter(customer=customer)
        .select_related("user", "contact")
        .order_by("-occurred_at", "-id")[:RECENT_INTERACTIONS]
    )
    tasks = list(
        FollowUpTask.objects.filter(customer=customer, status=TaskStatus.OPEN)
        .select_related("assignee")
        .order_by("due_at", "id")[:50]
    )
    return {
        "customer": customer,
        "interactions": interactions,
        "tasks": tasks,
        "can_log": services.can_log(request.user, customer),
        "channels": Channel.choices,
        "directions": Direction.choices,
        "priorities": Priority.choices,
    }


@require_POST
@login_required
def interaction_create(request, customer_pk):
    customer = get_object_or_404(
        customer_queries.customers_visible_to(request.user), pk=customer_pk
    )
    post = request.POST
    data = {
        name: post.get(name, "")
        for name in ("channel", "direction", "subject", "outcome", "content", "occurred_at")
        if name in post
    }
    if not data.get("occurred_at"):
        data.pop("occurred_at", None)
    if post.get("follow_up_title") or post.get("follow_up_due"):
        data["follow_up"] = {
            "title": post.get("follow_up_title", ""),
            "due_at": post.get("follow_up_due", ""),
            "remind_at": post.get("follow_up_remind") or None,
            "priority": post.get("follow_up_priority") or "normal",
        }
    try:
        services.interaction_create(actor=ui_actor(request), customer=customer, data=data)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            messages.error(request, f"{_field_label(field)}: {' '.join(problems)}")
    else:
        messages.success(request, _("Interaction logged."))
    return redirect(reverse("customers:detail", args=[customer.pk]) + "#interactions")


def _field_label(field: str) -> str:
    labels = {
        "channel": _("Channel"),
        "direction": _("Direction"),
        "subject": _("Subject"),
        "outcome": _("Outcome"),
        "content": _("Content"),
        "occurred_at": _("Time"),
        "follow_up.title": _("Follow-up"),
        "follow_up.due_at": _("Follow-up due"),
        "follow_up.remind_at": _("Reminder"),
        "follow_up.assignee": _("Follow-up assignee"),
    }
    return labels.get(field, field)


@require_POST
@login_required
def task_status(request, pk):
    task = get_object_or_404(queries.tasks_visible_to(request.user), pk=pk)
    status = request.POST.get("status", TaskStatus.DONE)
    services.task_set_status(actor=ui_actor(request), task=task, status=status)
    return redirect(request.POST.get("next") or reverse("engagement:inbox"))


@login_required
def inbox(request):
    context = queries.inbox(request.user)
    context["team_overdue"] = list(queries.team_overdue(request.user)[:200])
    return render(request, "engagement/inbox.html", context)


# ---- the customer timeline's sources (see customers.timeline) ------------------------


def events_of(customer):
    return BehaviourEvent.objects.filter(customer=customer)


def event_entry(event):
    return Entry(
        "event",
        event.occurred_at,
        event.pk,
        event.get_type_display(),
        {"type": event.type, "properties": event.properties},
    )


def interactions_of(customer):
    return Interaction.objects.filter(customer=customer).select_related("user")


def interaction_entry(item):
    return Entry(
        "interaction",
        item.occurred_at,
        item.pk,
        f"{item.get_channel_display()} · {item.subject}".rstrip(" ·"),
        {
            "channel": item.channel,
            "direction": item.direction,
            "subject": item.subject,
            "outcome": item.outcome,
            "user": item.user.username if item.user_id else None,
        },
    )


def tasks_of(customer):
    return FollowUpTask.objects.filter(customer=customer).select_related("assignee")


def task_entry(task):
    return Entry(
        "task",
        task.due_at,
        task.pk,
        task.title,
        {
            "status": task.status,
            "priority": task.priority,
            "assignee": task.assignee.username,
            "overdue": task.is_overdue,
        },
    )


# ---- holidays for care reminders (admins) ------------------------------------------


@login_required
def holidays(request):
    """Holidays that care reminders greet customers on, for admins to edit."""
    if not roles.is_admin(request.user):
        raise PermissionDenied
    if request.method == "POST":
        post = request.POST
        holiday = None
        if post.get("holiday"):
            holiday = get_object_or_404(Holiday, pk=post.get("holiday"))
        try:
            if post.get("action") == "delete" and holiday is not None:
                care_services.holiday_delete(actor=ui_actor(request), holiday=holiday)
            else:
                data = {
                    name: post.get(name, "")
                    for name in ("name", "month", "day", "days_ahead", "tag", "position")
                }
                if not data["position"]:
                    data.pop("position")
                data["active"] = post.get("active") == "on"
                data["dates"] = post.get("dates", "").replace(",", " ").split()
                care_services.holiday_save(actor=ui_actor(request), holiday=holiday, data=data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                messages.error(request, f"{_holiday_label(field)}: {' '.join(problems)}")
        else:
            messages.success(request, _("Saved."))
        return redirect("engagement:holidays")
    return render(
        request,
        "engagement/holidays.html",
        {
            "holidays": Holiday.objects.prefetch_related("dates").select_related("tag"),
            "tags": Tag.objects.order_by("name"),
        },
    )


def _holiday_label(field: str) -> str:
    labels = {
        "name": _("Name"),
        "month": _("Month"),
        "day": _("Day"),
        "dates": _("Dates"),
        "days_ahead": _("Days ahead"),
        "tag": _("Only customers tagged"),
    }
    return labels.get(field, field)
