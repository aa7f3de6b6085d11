"""A customer's timeline: everything that happened, newest first, from every app.

Apps register a source per kind of entry (orders, events, interactions …) without
the customers app importing them. Each source reads one page from its own index
(customer, time, id), so the first page costs the same for a customer with a
hundred entries or a hundred thousand; pages continue from a cursor, not an
offset.
"""

import base64
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

MAX_LIMIT = 200


@dataclass(frozen=True)
class Entry:
    kind: str
    at: datetime.datetime
    id: int
    title: str
    detail: dict


@dataclass(frozen=True)
class Source:
    kind: str
    # (customer) -> queryset of the kind's rows for that customer
    rows: Callable[[object], QuerySet]
    time_field: str
    # (row) -> Entry
    entry: Callable[[object], Entry]


_sources: dict[str, Source] = {}


def register(source: Source) -> None:
    _sources[source.kind] = source


def kinds() -> list[str]:
    return sorted(_sources)


@dataclass(frozen=True)
class Cursor:
    at: datetime.datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.kind, self.id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """ValueError for anything that is not a cursor this module wrote."""
        try:
            padded = text + "=" * (-len(text) % 4)
            at, kind, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
            moment = parse_datetime(at)
            if moment is None or not isinstance(kind, str) or not isinstance(pk, int):
                raise ValueError
        except (ValueError, TypeError, json.JSONDecodeError) as error:
            raise ValueError("bad cursor") from error
        return cls(moment, kind, pk)


def _older(source: Source, cursor: Cursor) -> Q:
    """Rows of ``source`` after ``cursor`` in (time desc, kind desc, id desc) order."""
    time = source.time_field
    if source.kind < cursor.kind:
        return Q(**{f"{time}__lte": cursor.at})
    if source.kind > cursor.kind:
        return Q(**{f"{time}__lt": cursor.at})
    return Q(**{f"{time}__lt": cursor.at}) | Q(**{time: cursor.at, "pk__lt": cursor.id})


def page(customer, wanted: list[str] | None = None, limit: int = 50, cursor: Cursor | None = None):
    """(entries, next cursor or None): up to ``limit`` entries of the ``wanted``
    kinds (all when None), newest first, after ``cursor``."""
    limit = max(1, min(limit, MAX_LIMIT))
    entries: list[Entry] = []
    for kind in wanted or kinds():
        source = _sources[kind]
        rows = source.rows(customer)
        if cursor is not None:
            rows = rows.filter(_older(source, cursor))
        rows = rows.order_by(f"-{source.time_field}", "-pk")[: limit + 1]
        entries.extend(source.entry(row) for row in rows)
    entries.sort(key=lambda e: (e.at, e.kind, e.id), reverse=True)
    shown = entries[:limit]
    more = len(entries) > limit
    next_cursor = Cursor(shown[-1].at, shown[-1].kind, shown[-1].id) if more and shown else None
    return shown, next_cursor
