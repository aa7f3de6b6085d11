"""Helpers shared by the web views of every app."""

from .changelog import Actor
from .models import Channel


def ui_actor(request) -> Actor:
    return Actor(user=request.user, channel=Channel.UI)


def posted_rows(post, fields: dict[str, str]) -> list[dict]:
    """Rows of a form's repeated inputs (a table of values, say): ``fields``
    maps each row key to its input's name; rows left empty are dropped."""
    columns = {key: post.getlist(name) for key, name in fields.items()}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for n in range(count):
        row = {
            key: (values[n] if n < len(values) else "").strip() for key, values in columns.items()
        }
        if any(row.values()):
            rows.append(row)
    return rows
