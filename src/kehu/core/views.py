"""Helpers shared by the web views of every app."""

from .changelog import Actor
from .models import Channel


def ui_actor(request) -> Actor:
    return Actor(user=request.user, channel=Channel.UI)
