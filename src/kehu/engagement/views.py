from . import queries
from .models import EventType


def customer_behaviour_panel(request, customer) -> dict | None:
    """The behaviour section of the customer 360 page (the page checked access);
    left out for a customer never seen."""
    summary = queries.behaviour_summary(customer)
    if not summary["event_count"]:
        return None
    labels = dict(EventType.choices)
    summary["rows"] = [
        (labels.get(kind, kind), by_window[7], by_window[30], by_window[90])
        for kind, by_window in sorted(summary["counts"].items())
    ]
    return summary
