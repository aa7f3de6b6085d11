from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.changelog import history_for
from kehu.core.paging import CappedPaginator
from kehu.core.views import ui_actor
from kehu.customers import queries as customer_queries
from kehu.customers.presenters import change_rows
from kehu.customers.timeline import Entry

from . import intake, queries, services
from .filtersets import TicketFilterSet
from .forms import PublicFeedbackForm
from .models import TRANSITIONS, Severity, Survey, Ticket, TicketCause, TicketState, TicketType


def tickets_of(customer):
    return Ticket.objects.filter(customer=customer)


def ticket_entry(ticket):
    return Entry(
        "ticket",
        ticket.opened_at,
        ticket.pk,
        f"{ticket.get_type_display()} · {ticket.subject}",
        {
            "type": ticket.type,
            "state": ticket.state,
            "severity": ticket.severity,
            "overdue": ticket.is_overdue,
        },
    )


def public_feedback(request):
    """The public feedback form: no login; bots and floods are turned away."""
    if (
        request.method == "POST"
        and int(request.META.get("CONTENT_LENGTH") or 0) > intake.MAX_BODY_BYTES
    ):
        return render(
            request,
            "service/feedback.html",
            {"form": PublicFeedbackForm(), "error": _("The form is too large.")},
            status=413,
        )
    form = PublicFeedbackForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "service/feedback.html", {"form": form}, status=400 if form.is_bound else 200
        )
    if form.cleaned_data["website"]:  # the bot trap: answer as if all went well
        return render(request, "service/feedback_thanks.html", {"number": None})
    try:
        intake.allow(request.META.get("REMOTE_ADDR"))
    except intake.TooMany:
        return render(
            request,
            "service/feedback.html",
            {
                "form": form,
                "error": _("Too many messages from your address; please try again later."),
            },
            status=429,
        )
    try:
        ticket = intake.submit(form.cleaned_data)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return render(request, "service/feedback.html", {"form": form}, status=400)
    return render(request, "service/feedback_thanks.html", {"number": ticket.pk})


# ---- pages ------------------------------------------------------------------------------


def customer_tickets_panel(request, customer) -> dict:
    """Tickets on the customer 360 page, with a form to open one."""
    tickets = list(
        Ticket.objects.filter(customer=customer).select_related("cause").order_by("-opened_at")[:20]
    )
    return {
        "customer": customer,
        "tickets": tickets,
        "can_handle": services.can_handle(request.user, customer),
        "types": TicketType.choices,
        "severities": Severity.choices,
        "causes": [(c.key, c.display_label) for c in TicketCause.objects.filter(active=True)],
    }


def ticket_create(request, customer_pk):
    customer = get_object_or_404(
        customer_queries.customers_visible_to(request.user), pk=customer_pk
    )
    data = {
        k: request.POST.get(k, "") for k in ("type", "severity", "cause", "subject", "description")
    }
    try:
        ticket = services.ticket_create(actor=ui_actor(request), customer=customer, data=data)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            messages.error(request, f"{field}: {' '.join(problems)}")
        return redirect(f"/customers/{customer.pk}/#tickets")
    messages.success(request, _("Ticket opened."))
    return redirect("service:ticket", pk=ticket.pk)


TICKETS_PER_PAGE = 50


def ticket_list(request):
    """The ticket queue: the tickets of the customers one may see, open ones first
    by due time, with filters (state, type, severity, cause, assignee, overdue)."""
    tickets = queries.tickets_visible_to(request.user)
    params = request.GET.copy()
    if "state" not in params and not params.get("all"):
        params.setlist("state", ["new", "assigned", "in_progress"])  # the open queue
    if params.get("assignee") == "me":
        params["assignee"] = str(request.user.pk)
    filters = TicketFilterSet(params, queryset=tickets)
    if filters.is_valid():
        tickets = filters.qs
    else:
        for field, problems in filters.errors.items():
            messages.error(request, f"{field}: {' '.join(problems)}")
    tickets = (
        tickets.order_by("due_at", "id")
        if "state" in params
        else tickets.order_by("-opened_at", "-id")
    )
    page = CappedPaginator(tickets, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "service/ticket_list.html",
        {
            "page": page,
            "query": query.urlencode(),
            "states": TicketState.choices,
            "types": TicketType.choices,
            "severities": Severity.choices,
            "causes": [(c.key, c.display_label) for c in TicketCause.objects.all()],
            "chosen_states": params.getlist("state"),
        },
    )


def ticket_detail(request, pk):
    ticket = get_object_or_404(queries.tickets_visible_to(request.user), pk=pk)
    moves = sorted(TRANSITIONS[ticket.state], key=list(TRANSITIONS).index)
    labels = dict(type(ticket).state.field.choices)
    return render(
        request,
        "service/ticket_detail.html",
        {
            "ticket": ticket,
            "moves": [(m, labels[m]) for m in moves],
            "can_handle": services.can_handle(request.user, ticket.customer),
            "people": User.objects.filter(is_active=True).order_by("username"),
            "history": change_rows(list(history_for(ticket)[:50]), model=type(ticket)),
            "surveys": list(Survey.objects.filter(is_open=True).order_by("name")),
        },
    )


def ticket_transition(request, pk):
    ticket = get_object_or_404(queries.tickets_visible_to(request.user), pk=pk)
    try:
        services.ticket_transition(
            actor=ui_actor(request),
            ticket=ticket,
            to=request.POST.get("to", ""),
            data={"assignee": request.POST.get("assignee"), "reply": request.POST.get("reply", "")},
        )
    except ValidationError as error:
        for problems in error.message_dict.values():
            messages.error(request, " ".join(problems))
    return redirect("service:ticket", pk=ticket.pk)
