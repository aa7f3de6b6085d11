"""Sections other apps add to the customer 360 page (orders, interactions,
tickets …) without the customers app importing them: each registers a panel
when its app is ready."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    # (request, customer) -> the template's context, or None to leave the panel out.
    context: Callable
    position: int = 100


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(request, customer) -> list[tuple[Panel, dict]]:
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.position, p.key)):
        context = panel.context(request, customer)
        if context is not None:
            shown.append((panel, context))
    return shown
