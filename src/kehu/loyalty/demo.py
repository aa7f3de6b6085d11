"""Demo points: the ledger the demo customers' orders would have given them.

Demo orders are written in bulk, without the sales signals that earn points, so
this part works after the chunks are written (``demo_history.Part.finish``): it
reads the orders and refunds of the customers just loaded, replays each
customer's history in time order by the rules of ``ledger`` and ``services``, and
writes the entries and the accounts in bulk (without change-log entries, like all
demo data):

- an earning per paid order (also those refunded later) by the active earning
  rule, on the order's amount in the base currency, as ``earn_for_orders``
  computes it, expiring by ``ledger.expiry_for``; a customer in debt pays it first;
- a reversal per refund, as ``reverse_for_refund`` computes it (the customer keeps
  floor(earned × kept / total)), taken from the order's own earning first, then
  from the credits that expire first;
- for about a fifth of the customers, a redemption of 200–1,000 points a little
  after one of their purchases, when they have 500 points or more then, recorded
  by their owner;
- an expiry entry (dated at the credit's expiry, naming it as ``source``) for what
  is left of every credit whose time came by the demo's epoch, as the daily
  expiry run writes them;
- an account per customer with entries: the balance is the sum of the entries,
  the lifetime points the sum of the qualifying ones, and the credits' ``remaining``
  keeps the ledger's invariants.

Large loads write this before their indexes are rebuilt, so orders and refunds are
read in one sorted pass each (no index needed), streamed with server-side cursors,
in blocks of customers: memory stays bounded whatever the size of the load. The
replay itself (``demo_replay``) touches no database; beyond a few blocks a forked
process runs it while this one reads the next block and writes the last. Loyalty
does not import sales (same floor): their tables are found through
``apps.get_model``.
"""

import decimal
import itertools
import marshal
import multiprocessing
import queue
import traceback

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection
from django.utils.translation import gettext_noop

from kehu.core.forking import single_threaded
from kehu.customers import demo_history as history
from kehu.customers.models import Customer

from . import ledger
from .demo_replay import Context, Replay
from .models import EarnRule, LoyaltyAccount, LoyaltyEntry

FETCH = 10_000  # rows per fetch from the database
BLOCK = 10_000  # customers replayed and written at a time
WINDOW = 2  # blocks handed to the replaying process ahead
PAID = ("paid", "partially_refunded", "refunded")  # orders paid (before any refund)
ENTRY_TABLE = "points_entries"
ACCOUNT_TABLE = "points_accounts"
ACCOUNT_COLUMNS = ("customer_id", "balance", "lifetime_points", "updated_at")


def prepare(seed: int, admin_id: int) -> Context:
    """The active earning rule; the shipped one (as the migration adds it) when there
    is no rule at all. When an admin switched every rule off, nobody earns."""
    if not EarnRule.objects.exists():
        EarnRule.objects.create(
            name=gettext_noop("1 point per 10 spent"),
            unit_amount=decimal.Decimal("10.00"),
            points_per_unit=1,
            minimum_amount=decimal.Decimal(0),
            active=True,
        )
    rule = EarnRule.objects.filter(active=True).first()
    if rule is None:
        return Context(0, 0, 0, 0, admin_id)
    return Context(
        unit=int(rule.unit_amount * 100),
        points_per_unit=rule.points_per_unit,
        minimum=int(rule.minimum_amount * 100),
        months=settings.KEHU_LOYALTY_EXPIRY_MONTHS,
        admin_id=admin_id,
    )


def rows(stories: history.Stories, context: Context, rng) -> dict[str, list[tuple]]:
    return {}  # everything is derived from the orders, after the chunks (``finish``)


def finish(seed: int, context: Context, ids: range) -> dict[str, int]:
    """Write the points of the customers ``ids``; returns the rows written per table."""
    written = {ENTRY_TABLE: 0, ACCOUNT_TABLE: 0}
    if not context.unit or not ids:
        return written
    first_id = (LoyaltyEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    replay = Replay(seed, context, connection.vendor == "postgresql", first_id)
    with (
        connection.chunked_cursor() as order_cursor,
        connection.chunked_cursor() as refund_cursor,
        connection.cursor() as cursor,
    ):
        blocks = _blocks(order_cursor, refund_cursor, cursor, ids)
        for entries, accounts, counts in _replayed(replay, blocks):
            _write(cursor, LoyaltyEntry, ["id", *ledger.ENTRY_COLUMNS], entries)
            _write(cursor, LoyaltyAccount, list(ACCOUNT_COLUMNS), accounts)
            written[ENTRY_TABLE] += counts[0]
            written[ACCOUNT_TABLE] += counts[1]
        if connection.vendor == "postgresql":
            # Ids were given here: the sequence continues after them.
            for sql in connection.ops.sequence_reset_sql(no_style(), [LoyaltyEntry]):
                cursor.execute(sql)
    return written


def _replayed(replay: Replay, blocks):
    """``replay.block`` of each block, in order. With more than two blocks a forked
    process replays them while this one reads the next block and writes the last
    (both about half of the work); one process replays them all, in order, so the
    rows are the same either way."""
    blocks = iter(blocks)
    ahead = list(itertools.islice(blocks, 3))
    if len(ahead) < 3 or not single_threaded():
        for block in itertools.chain(ahead, blocks):
            yield replay.block(*block)
        return
    context = multiprocessing.get_context("fork")
    jobs, results = context.Queue(maxsize=WINDOW), context.Queue()
    worker = context.Process(target=_work, args=(replay, jobs, results), daemon=True)
    worker.start()
    try:
        waiting = 0
        for block in itertools.chain(ahead, blocks):
            jobs.put(block)
            waiting += 1
            if waiting >= WINDOW:
                yield _result(results, worker)
                waiting -= 1
        jobs.put(None)
        for _ in range(waiting):
            yield _result(results, worker)
        worker.join()
    finally:
        if worker.is_alive():
            worker.terminate()
            worker.join()


def _work(replay: Replay, jobs, results) -> None:
    """The replaying process: blocks in, payloads out, until a None."""
    try:
        while (block := jobs.get()) is not None:
            results.put(replay.block(*block))
    except BaseException:
        results.put(traceback.format_exc())


def _result(results, worker):
    """The next block's payloads; the replaying process's error if it failed."""
    while True:
        try:
            result = results.get(timeout=1)
            break
        except queue.Empty:
            if not worker.is_alive():
                raise RuntimeError("The process replaying the demo points stopped.") from None
    if isinstance(result, str):
        raise RuntimeError(f"Replaying the demo points failed:\n{result}")
    return result


def _write(cursor, model, columns: list[str], payload) -> None:
    """COPY text (PostgreSQL) or marshalled rows (SQLite, ``executemany``)."""
    if not payload:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            copy.write(payload)
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", marshal.loads(payload)
        )


# ---- reading orders and refunds ------------------------------------------------------


def _sql_parts() -> tuple[str, str, str]:
    """SQL for whole seconds since 1970 of a timestamp column, cents of a money
    column, and a decimal column as text, on this database."""
    if connection.vendor == "postgresql":
        return "EXTRACT(EPOCH FROM {})::bigint", "({} * 100)::bigint", "{}::text"
    # (%% is a literal % in a statement with parameters.)
    return (
        "CAST(strftime('%%s', {}) AS INTEGER)",
        "CAST(ROUND({} * 100) AS INTEGER)",
        "CAST({} AS TEXT)",
    )


def _table(name: str) -> str:
    return connection.ops.quote_name(apps.get_model("sales", name)._meta.db_table)


def _fetched(cursor):
    while batch := cursor.fetchmany(FETCH):
        yield from batch


def _orders(cursor, ids: range):
    """(customer id, [(customer id, order id, external id, ordered at, amount in
    cents, base rate as text)]) of each customer of ``ids`` with paid orders, in
    customer order, their orders in time order."""
    seconds, cents, text = _sql_parts()
    cursor.execute(
        f"SELECT customer_id, id, external_id, {seconds.format('ordered_at')},"
        f" {cents.format('amount')}, {text.format('base_rate')} FROM {_table('Order')}"
        " WHERE customer_id >= %s AND customer_id < %s AND deleted_at IS NULL"
        " AND status IN (%s, %s, %s) ORDER BY customer_id, ordered_at, id",
        [ids.start, ids.stop, *PAID],
    )
    current, mine = None, []
    for row in _fetched(cursor):
        if row[0] != current:
            if mine:
                yield current, mine
            current, mine = row[0], []
        mine.append(row)
    if mine:
        yield current, mine


def _blocks(order_cursor, refund_cursor, cursor, ids: range):
    """([(customer id, orders, {order id: [(refunded at, cents)]})], {customer id:
    owner id}) for each BLOCK customers of ``ids`` (those with paid orders)."""
    refunds = _refunds(refund_cursor, ids)
    pending = next(refunds, None)
    block, customers = None, []
    for customer_id, orders in _orders(order_cursor, ids):
        mine: dict[int, list[tuple[int, int]]] = {}
        while pending is not None and pending[0] <= customer_id:
            if pending[0] == customer_id:
                mine.setdefault(pending[1], []).append((pending[2], pending[3]))
            pending = next(refunds, None)
        number = (customer_id - ids.start) // BLOCK
        if number != block and customers:
            yield customers, _owners(cursor, ids.start + block * BLOCK)
            customers = []
        block = number
        customers.append((customer_id, orders, mine))
    if customers:
        yield customers, _owners(cursor, ids.start + block * BLOCK)


def _owners(cursor, start: int) -> dict[int, int]:
    """{customer id: owner id} of customers ``start`` … ``start + BLOCK - 1``."""
    cursor.execute(
        f"SELECT id, owner_id FROM {connection.ops.quote_name(Customer._meta.db_table)}"
        " WHERE id >= %s AND id < %s AND owner_id IS NOT NULL",
        [start, start + BLOCK],
    )
    return dict(cursor.fetchall())


def _refunds(cursor, ids: range):
    """(customer id, order id, refunded at, cents) of the refunds of orders of the
    customers ``ids``, by customer, then order, in the order they were recorded."""
    seconds, cents, _text = _sql_parts()
    cursor.execute(
        f"SELECT o.customer_id, r.order_id, {seconds.format('r.refunded_at')},"
        f" {cents.format('r.amount')}"
        f" FROM {_table('Refund')} r JOIN {_table('Order')} o ON o.id = r.order_id"
        " WHERE o.customer_id >= %s AND o.customer_id < %s AND o.deleted_at IS NULL"
        " AND r.deleted_at IS NULL ORDER BY o.customer_id, r.order_id, r.refunded_at, r.id",
        [ids.start, ids.stop],
    )
    return _fetched(cursor)


PART = history.Part(
    key="loyalty",
    tables=(
        history.Table(ENTRY_TABLE, LoyaltyEntry, tuple(ledger.ENTRY_COLUMNS)),
        history.Table(ACCOUNT_TABLE, LoyaltyAccount, ACCOUNT_COLUMNS, numbered=False),
    ),
    prepare=prepare,
    rows=rows,
    finish=finish,
)
