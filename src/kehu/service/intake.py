"""The public feedback form's work: rate limit, bot trap, finding or creating the
customer, and opening the ticket, all through the services."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.changelog import Actor
from kehu.core.models import Channel
from kehu.core.normalize import normalize_email, normalize_phone
from kehu.customers import queries as customer_queries
from kehu.customers import services as customer_services

from . import services
from .models import IntakeAttempt, Ticket

PER_ADDRESS_PER_HOUR = 5
MAX_BODY_BYTES = 64 * 1024


class TooMany(Exception):
    """The address sent too many forms in the last hour."""


def allow(ip_address: str | None, now=None) -> None:
    now = now or timezone.now()
    hour_ago = now - datetime.timedelta(hours=1)
    IntakeAttempt.objects.filter(at__lt=now - datetime.timedelta(days=1)).delete()
    if IntakeAttempt.objects.filter(ip_address=ip_address, at__gte=hour_ago).count() >= (
        PER_ADDRESS_PER_HOUR
    ):
        raise TooMany
    IntakeAttempt.objects.create(ip_address=ip_address, at=now)


def submit(data: dict) -> Ticket:
    """Open a ticket from the form; the customer is the one with this phone or
    email, or a new lead. ValidationError names the bad fields."""
    errors: dict[str, list[str]] = {}
    phone = email = ""
    if data.get("phone"):
        try:
            phone = normalize_phone(data["phone"])
        except ValidationError as error:
            errors["phone"] = error.messages
    if data.get("email"):
        try:
            email = normalize_email(data["email"])
        except ValidationError as error:
            errors["email"] = error.messages
    if not data.get("phone") and not data.get("email"):
        errors["phone"] = [_("Leave a phone number or an email so that we can answer.")]
    if errors:
        raise ValidationError(errors)
    actor = Actor(user=None, channel=Channel.SYSTEM)
    with transaction.atomic():
        found = customer_queries.customers_with_phone_or_email(phone, email)
        customer = found[0] if found else None
        if customer is None:
            customer = customer_services.customer_create(
                actor=actor,
                data={
                    "name": data["name"],
                    "phones": [phone] if phone else [],
                    "emails": [email] if email else [],
                    "source": "website",
                    "status": "lead",
                },
            )
        return services.ticket_create(
            actor=actor,
            customer=customer,
            data={
                "type": data["type"],
                "subject": data["subject"],
                "description": data.get("description", ""),
            },
            channel="web_form",
        )
