"""Named signals: how an app hears of another app's events without importing it.

DESIGN.md lets imports run only down the floors, and apps on one floor (sales,
engagement, service, loyalty) never import each other. An app that announces
something declares its signal here by name, in its own ``signals.py`` with the
payload documented (``sales/signals.py``); a receiver connects to the same name.
Both sides import only ``core``. A name is the contract, as a URL is for a
webhook.
"""

from django.dispatch import Signal

_signals: dict[str, Signal] = {}


def named(name: str) -> Signal:
    """The signal called ``name`` ("<app>.<event>"), created on first use."""
    return _signals.setdefault(name, Signal())
