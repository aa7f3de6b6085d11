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
