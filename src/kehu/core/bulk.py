"""Writing many plain rows at once, without building model instances.

For hot paths (batch ingestion) where Django's ``bulk_create`` spends more time
preparing instances than the database spends storing them: 6,000 order lines
took 0.4 s of Python in ``bulk_create``.
"""

import datetime
import decimal
import json
import re
from collections.abc import Iterable

from django.db import connection, models


def insert_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, Python values; JSON columns as
    text) into ``model``'s table: COPY on PostgreSQL, executemany on SQLite."""
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"
            ) as copy:
                copy.write(copy_text(list(rows)))
            return
        adapters = [_sqlite_adapter(model._meta.get_field(_field_name(model, c))) for c in columns]
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({placeholders})",
            [tuple(a(v) if a else v for a, v in zip(adapters, row, strict=True)) for row in rows],
        )


def _field_name(model, column: str) -> str:
    for field in model._meta.concrete_fields:
        if field.column == column:
            return field.name
    raise ValueError(f"{model.__name__} has no column {column}")


def _sqlite_adapter(field):
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(v)
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    return None


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_NEEDS_QUOTING = re.compile(r'["\\\\]')


def _column_text(values: tuple) -> list[str]:
    """One column's values as COPY text, by the cheapest path that is exact: a
    value repeated down the column (a batch's time, caller, kind) is written
    once, plain numbers and times without a Python call per value, and strings
    as they are unless one needs escaping."""
    first = values[0]
    if values.count(first) == len(values):
        return [_copy_value(first)] * len(values)
    kinds = set(map(type, values))
    if kinds <= {int, decimal.Decimal}:
        return list(map(str, values))
    if kinds == {str}:
        if _NEEDS_ESCAPE.search("".join(values)):
            return [v.translate(_COPY_ESCAPES) for v in values]
        return list(values)
    if kinds == {datetime.datetime}:
        return list(map(datetime.datetime.isoformat, values))
    if kinds == {datetime.date}:
        return list(map(datetime.date.isoformat, values))
    return list(map(_copy_value, values))


def copy_text(rows: list[tuple]) -> str:
    """``rows`` as the text of PostgreSQL's COPY format. Built here, a column at a
    time, it costs a fraction of what psycopg's ``write_row`` spends adapting
    each value (0.14 s for 30,000 rows)."""
    if not rows:
        return ""
    texts = [_column_text(column) for column in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


def _array_element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_array(values) -> str:
    """A PostgreSQL array literal (``{1,2,NULL}``) of ``values``, sent as one text
    parameter and cast in SQL. psycopg's client-side binding would otherwise quote
    each element of a list parameter in Python: 60 ms per batch of 2,000 orders."""
    values = list(values)
    if values and values.count(values[0]) == len(values):  # a batch's time, status …
        return "{" + ",".join([_array_element(values[0])] * len(values)) + "}"
    kinds = set(map(type, values))
    if kinds <= {int, decimal.Decimal}:  # the common columns, without a call per value
        return "{" + ",".join(map(str, values)) + "}"
    if len(kinds) == 1 and issubclass(next(iter(kinds)), datetime.date):
        return "{" + ",".join(v.isoformat() for v in values) + "}"
    if kinds == {str} and not _NEEDS_QUOTING.search("".join(values)):
        return '{"' + '","'.join(values) + '"}'
    return "{" + ",".join(map(_array_element, values)) + "}"


def in_values(column_sql: str, values) -> tuple[str, list]:
    """``<column> IN (values)`` as SQL with a single parameter: an array on
    PostgreSQL, a JSON array on SQLite. Django's ``__in`` prepares each of
    thousands of values one by one (0.12 s for 8,000)."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column_sql} = ANY(%s)", [pg_array(values)]
    return f"{column_sql} IN (SELECT value FROM json_each(%s))", [json.dumps(values)]


def upsert_rows(
    model: type[models.Model],
    columns: list[str],
    rows: list[tuple],
    conflict: str,
    assignments: str,
    returning: list[str] | None = None,
) -> list[tuple]:
    """``INSERT … ON CONFLICT (<conflict>) DO UPDATE SET <assignments>`` for many
    rows in one statement (the table is aliased ``s``; ``excluded`` names the new
    row). Values: Python values; decimals and datetimes are converted here.
    With ``returning``, those columns of every row as it is after the statement
    (inserted or updated), else an empty list.

    Rows go in the order of their conflict key: two transactions upserting
    overlapping rows then lock them in the same order, and wait for each other
    instead of deadlocking."""
    if not rows:
        return []
    key = [columns.index(c.strip()) for c in conflict.split(",")]
    rows = sorted(rows, key=lambda row: [row[i] for i in key])
    back = ""
    if returning:
        back = " RETURNING " + ", ".join(connection.ops.quote_name(c) for c in returning)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    fields = [model._meta.get_field(_field_name(model, c)) for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [f.db_type(connection) for f in fields]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {table} AS s ({names}) SELECT * FROM unnest({arrays})"
                f" ON CONFLICT ({conflict}) DO UPDATE SET {assignments}{back}",
                [pg_array(column) for column in zip(*rows, strict=True)],
            )
            return cursor.fetchall() if returning else []
        adapters = [_sqlite_adapter(f) for f in fields]
        payload = json.dumps(
            [[a(v) if a else v for a, v in zip(adapters, row, strict=True)] for row in rows]
        )
        picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        # "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
        cursor.execute(
            f"INSERT INTO {table} AS s ({names}) SELECT {picks} FROM json_each(%s) WHERE true"
            f" ON CONFLICT ({conflict}) DO UPDATE SET {assignments}{back}",
            [payload],
        )
        return cursor.fetchall() if returning else []


def insert_returning(
    model: type[models.Model], columns: list[str], rows: list[tuple], returning: list[str]
) -> list[tuple]:
    """Insert rows in one statement and return ``returning`` columns of each (the
    new ids, say), without building model instances."""
    if not rows:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    back = ", ".join(connection.ops.quote_name(c) for c in returning)
    fields = [model._meta.get_field(_field_name(model, c)) for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) RETURNING {back}",
                [pg_array(column) for column in zip(*rows, strict=True)],
            )
        else:
            adapters = [_sqlite_adapter(f) for f in fields]
            payload = json.dumps(
                [[a(v) if a else v for a, v in zip(adapters, row, strict=True)] for row in rows]
            )
            picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {picks} FROM json_each(%s) RETURNING {back}",
                [payload],
            )
        return cursor.fetchall()


def sqlite_frame(
    expressions: list[str],
    rest: str,
    params: list,
    schema: dict,
    *,
    numbers_only=False,
    plain=False,
):
    """``SELECT <expressions> <rest>`` on SQLite as a Polars frame of
    ``schema``: SQLite writes the rows as one CSV text (``quote()`` makes each
    value a literal: text in single quotes, doubled inside; NULL as an empty
    field) and Polars parses it, instead of Python building a tuple per row.
    ``numbers_only``: every expression is a number that is never NULL (a NULL
    would drop its row), written as it is: 4M orders in 4.9 s instead of 9.1.
    ``plain``: every value is a number, a date or a code without commas,
    quotes or line breaks, written as it is, NULL as an empty field: a
    million scores in 1.9 s instead of 3.7."""
    import io

    import polars as pl

    if numbers_only:
        fields = " || ',' || ".join(f"({e})" for e in expressions)
    elif plain:
        fields = " || ',' || ".join(f"coalesce({e}, '')" for e in expressions)
    else:
        # quote(NULL) is the bare word NULL; a text 'NULL' is quoted: only the former empties
        fields = " || ',' || ".join(
            f"coalesce(nullif(quote({e}), 'NULL'), '')" for e in expressions
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT group_concat({fields}, char(10)) {rest}", params)
        (text,) = cursor.fetchone()
    if not text:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(
        io.StringIO(text), has_header=False, new_columns=list(schema), schema=schema, quote_char="'"
    )
