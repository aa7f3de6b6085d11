from kehu.customers.timeline import Entry

from .models import Ticket


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
    from django.core.exceptions import ValidationError
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    from . import intake
    from .forms import PublicFeedbackForm

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
