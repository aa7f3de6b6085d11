"""History for demo customers (orders, behaviour, interactions, tickets …), from
the apps that own it, without the customers app importing them.

Each of those apps registers a ``Part`` when Django starts it (its ``demo.py``).
The loader (``demo.py``) calls every part for every chunk of customers, in the
worker process that generated the chunk, and writes the rows the parts return
with the same writers as the customers (COPY on PostgreSQL, executemany on
SQLite). Like the rest of the demo data, history is written without change-log
entries.

So that orders, behaviour, interactions and tickets tell one story, each
customer's *story* is drawn here first, once: when they bought (a BG/NBD-like
process: a gamma-distributed purchase rate per customer, and after each
purchase a chance to drop out for good), whether and when they stopped, and
whether a complaint came shortly before their last purchase. Leads and prospects
never bought; inactive and lost customers have been quiet for months. Parts turn
the story into their rows and draw everything else from their own random stream
(seed, chunk, part key), so adding a part changes no other part's rows.

Ids: a part numbers the rows of each of its tables from 0 and refers to rows of
its own tables by those numbers (``Table.refs``). The loader turns them into ids:
each table's base for a chunk is its next id plus the rows of the chunks before,
which worker processes hand on to each other (``IdBases``) as soon as they have
generated a chunk, so ids have no gaps and do not depend on the number of workers.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

from . import demo_data as words

EPOCH = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
EPOCH_TS = int(EPOCH.timestamp())
DAY = 86400
# Customers were created up to this long before the epoch.
SPAN = 3 * 365 * DAY

# The purchase process (tuned so that the base averages about four orders per
# customer: 0 for leads and prospects, a median of 3 for buyers, the busiest 10 %
# of buyers making about half the purchases).
RATE_SHAPE = 0.6  # gamma shape of the purchase rates
RATE_MEAN = 0.0285  # purchases per day, mean over buyers
ORGANIZATION_RATE = 1.5  # organisations buy more often
FIRST_WAIT = 15 * DAY  # mean time from creation to the first purchase
MAX_PURCHASES = 400
# (a, b) of the beta-distributed chance to drop out after each purchase.
DROPOUT_ACTIVE = (1.0, 12.0)
DROPOUT_LAPSED = (2.0, 4.0)
# Inactive and lost customers have bought nothing for at least this long.
QUIET_DAYS = {"inactive": (90, 365), "lost": (120, 400)}
# Share of the customers who stopped buying whose last purchase came shortly
# after a complaint, by status.
COMPLAINT_SHARE = {"lost": 0.6, "inactive": 0.15, "active": 0.1}
COMPLAINT_REASONS = ["product_quality"] * 4 + ["service"] * 3 + ["delivery"] * 2 + ["price"]
COMPLAINT_BEFORE = 20 * DAY  # at most this long before the last purchase
BUYING = ("active", "inactive", "lost")


# ---- the registry --------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table a part fills. Rows are tuples in ``columns`` order, values as the
    database reads them in bulk: str, int, bool or None; times from
    ``Stories.stamp``; decimals as text. Text holds no tab, newline or backslash."""

    name: str  # unique across parts: the key of its count in the loader's totals
    model: type[models.Model]
    columns: tuple[str, ...]  # database columns, without the id of a numbered table
    numbered: bool = True  # the loader gives each row an id (the first column written)
    # (column, table name): the column holds a row number of that (numbered) table of
    # the same part, or None.
    refs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Part:
    key: str
    tables: tuple[Table, ...]  # in the order they are written
    # (seed, admin user id) -> context: runs in the loading process before any chunk,
    # creates what rows refer to (products, causes …) and returns what ``rows``
    # needs, picklable.
    prepare: Callable[[int, int], object]
    # (stories, context, rng) -> {table name: rows}; runs in a worker process.
    rows: Callable[["Stories", object, random.Random], dict[str, list[tuple]]]
    # Post-load step, for rows derived from other parts' rows (points from orders):
    # (seed, context, ids of the customers loaded) -> {table name: rows written}.
    # Runs in the loading process once every chunk is written, in the load's
    # transaction, and writes its tables itself. Large loads have not rebuilt their
    # secondary indexes yet: read other tables in one sorted pass, not by index.
    finish: Callable[[int, object, range], dict[str, int]] | None = None


_parts: dict[str, Part] = {}


def register(part: Part) -> None:
    _parts[part.key] = part


def parts() -> list[Part]:
    return sorted(_parts.values(), key=lambda p: p.key)


# ---- stories -------------------------------------------------------------------------


@dataclass
class Stories:
    """One chunk of customers and what happened to them, as parallel lists.

    Times are whole seconds since 1970 (UTC), all before ``EPOCH_TS``."""

    index: int  # the chunk's number
    first_id: int
    stamp: Callable[[int], str]  # seconds -> a timestamp as the database reads it
    ids: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    owners: list[int | None] = field(default_factory=list)
    teams: list[int | None] = field(default_factory=list)
    # Index into demo_data.CATEGORIES: what the customer mostly buys and browses.
    interests: list[int] = field(default_factory=list)
    # Moments of purchase, ascending; empty for leads and prospects.
    purchases: list[list[int]] = field(default_factory=list)
    # Stopped buying for good after the last purchase (dropped out, lapsed, lost).
    ended: list[bool] = field(default_factory=list)
    # A COMPLAINT_REASONS key when a complaint came shortly before the last
    # purchase, else ""; and its moment (0 when none).
    complaints: list[str] = field(default_factory=list)
    complained_at: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def draw_stories(
    seed: int, index: int, customers: list[tuple], created: list[int], stamp
) -> Stories:
    """The stories of a chunk's customers (``customers``: (id, kind, status, source,
    owner id, team id) each; ``created``: their creation moments)."""
    rng = random.Random(f"{seed}:{index}:story")
    rand, expo, gamma, beta = rng.random, rng.expovariate, rng.gammavariate, rng.betavariate
    categories = len(words.CATEGORIES)
    reasons = COMPLAINT_REASONS
    out = Stories(index=index, first_id=customers[0][0] if customers else 0, stamp=stamp)
    for (cid, kind, status, source, owner, team), since in zip(customers, created, strict=True):
        out.ids.append(cid)
        out.created.append(since)
        out.kinds.append(kind)
        out.statuses.append(status)
        out.sources.append(source)
        out.owners.append(owner)
        out.teams.append(team)
        out.interests.append(int(rand() * categories))
        buys: list[int] = []
        ended = False
        complaint, complained = "", 0
        if status in BUYING:
            buys, ended = _purchases(rand, expo, gamma, beta, since, status, kind)
            share = COMPLAINT_SHARE.get(status, 0.0)
            if ended and len(buys) >= 2 and rand() < share:
                complaint = reasons[int(rand() * len(reasons))]
                window = min(COMPLAINT_BEFORE, buys[-1] - buys[-2] - 7200)
                complained = buys[-1] - 3600 - int(rand() * max(window, 0))
        out.purchases.append(buys)
        out.ended.append(ended)
        out.complaints.append(complaint)
        out.complained_at.append(complained)
    return out


def _purchases(rand, expo, gamma, beta, since: int, status: str, kind: str):
    """(moments, ended) for one buying customer."""
    rate = gamma(RATE_SHAPE, RATE_MEAN / RATE_SHAPE) / DAY
    if kind == "organization":
        rate *= ORGANIZATION_RATE
    rate = max(rate, 1e-12)
    dropout = beta(*(DROPOUT_ACTIVE if status == "active" else DROPOUT_LAPSED))
    t = since + 60 + int(expo(1 / FIRST_WAIT))
    if t >= EPOCH_TS:
        t = since + int(rand() * (EPOCH_TS - since))
    buys = [t]
    ended = False
    while len(buys) < MAX_PURCHASES:
        if rand() < dropout:
            ended = True
            break
        t += 60 + int(expo(rate))
        if t >= EPOCH_TS:
            break
        buys.append(t)
    if status != "active":
        low, high = QUIET_DAYS[status]
        quiet_from = EPOCH_TS - (low + int(rand() * (high - low))) * DAY
        # Those who bought only lately never really started: no purchase at all.
        buys = [b for b in buys if b <= quiet_from]
        ended = True
    return buys, ended


# ---- timestamps ----------------------------------------------------------------------


def stamper(suffix: str) -> Callable[[int], str]:
    """Seconds -> "YYYY-MM-DD HH:MM:SS" + ``suffix``, from tables built once per process
    (history reaches a year past the epoch: tasks due, SLAs)."""
    cached = _stampers.get(suffix)
    if cached is None:
        first = (EPOCH_TS - SPAN) // DAY - 1
        start = datetime.date(1970, 1, 1) + datetime.timedelta(days=first)
        day = [
            format(start + datetime.timedelta(days=d), "%Y-%m-%d ")
            for d in range(SPAN // DAY + 2 + 366)
        ]
        clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(DAY)]

        def cached(t: int) -> str:
            return day[t // DAY - first] + clock[t % DAY]

        _stampers[suffix] = cached
    return cached


_stampers: dict[str, Callable[[int], str]] = {}


# ---- ids and encoding ------------------------------------------------------------------


class IdBases:
    """Each numbered table's first id for each chunk, handed on from chunk to chunk
    across processes: chunk i waits until chunk i - 1 has published its bases and
    counts (right after generating, before encoding), then publishes its own."""

    def __init__(self, context, chunks: int, starts: list[int]):
        width = len(starts)
        self.width = width
        self.values = context.Array("q", (chunks + 1) * width, lock=False)
        self.ready = context.Array("b", chunks + 1, lock=False)
        self.condition = context.Condition()
        self.values[0:width] = starts
        self.ready[0] = 1

    def take(self, index: int, counts: list[int]) -> list[int]:
        """The bases of chunk ``index``, which adds ``counts`` rows."""
        width = self.width
        with self.condition:
            if not self.condition.wait_for(lambda: self.ready[index], timeout=900):
                raise TimeoutError(f"chunk {index - 1} never published its ids")
            bases = list(self.values[index * width : (index + 1) * width])
            self.values[(index + 1) * width : (index + 2) * width] = [
                b + c for b, c in zip(bases, counts, strict=True)
            ]
            self.ready[index + 1] = 1
            self.condition.notify_all()
        return bases


def numbered_tables(selected: list[Part]) -> list[Table]:
    return [t for part in selected for t in part.tables if t.numbered]


def generate(seed: int, stories: Stories, selected: list[Part], contexts: tuple) -> dict:
    """{table name: rows} of every part for one chunk."""
    rows: dict[str, list[tuple]] = {}
    for part, context in zip(selected, contexts, strict=True):
        rng = random.Random(f"{seed}:{stories.index}:{part.key}")
        produced = part.rows(stories, context, rng)
        for table in part.tables:
            rows[table.name] = produced.get(table.name, [])
    return rows


def encode(selected: list[Part], rows: dict, bases: dict[str, int], vendor: str):
    """(table name, payload) per table with rows: COPY text (bytes) for PostgreSQL,
    rows with their ids for SQLite; row numbers in ``refs`` columns become ids.
    Takes the rows out of ``rows`` as it goes, so each table's rows can be freed
    once encoded."""
    for part in selected:
        for table in part.tables:
            data = rows.pop(table.name)
            if not data:
                continue
            if table.refs:
                positions = {c: n for n, c in enumerate(table.columns)}
                data = _offset(data, [(positions[c], bases[t]) for c, t in table.refs])
            base = bases.get(table.name) if table.numbered else None
            if vendor == "postgresql":
                yield table.name, _copy_text(data, base).encode()
            elif base is not None:
                yield table.name, [(i, *row) for i, row in enumerate(data, base)]
            else:
                yield table.name, data


def _offset(rows: list[tuple], refs: list[tuple[int, int]]) -> list:
    out = []
    append = out.append
    for row in rows:
        row = list(row)
        for position, base in refs:
            value = row[position]
            if value is not None:
                row[position] = value + base
        append(row)
    return out


def _copy_text(rows, base: int | None) -> str:
    if base is None:
        return "".join(
            ["\t".join(["\\N" if v is None else str(v) for v in row]) + "\n" for row in rows]
        )
    return "".join(
        [
            f"{i}\t" + "\t".join(["\\N" if v is None else str(v) for v in row]) + "\n"
            for i, row in enumerate(rows, base)
        ]
    )
