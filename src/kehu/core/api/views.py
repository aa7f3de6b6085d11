"""Helpers shared by API views."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.core.changelog import Actor
from kehu.core.models import Channel


def api_actor(request) -> Actor:
    return Actor(user=request.user, channel=Channel.API)


def request_object(request) -> dict:
    """The JSON body as a dict; anything else is the client's mistake (400)."""
    data = request.data
    if hasattr(data, "dict") and not isinstance(data, dict):
        data = {k: (v if len(data.getlist(k)) == 1 else data.getlist(k)) for k, v in data.items()}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("The body must be a JSON object.")]})
    return data
