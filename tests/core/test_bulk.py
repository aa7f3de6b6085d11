"""Bulk writes and long IN lists keep every value exactly, awkward text included."""

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType

from kehu.core.bulk import insert_returning, insert_rows, upsert_rows
from kehu.core.models import ChangeLogEntry
from kehu.customers.models import Tag

pytestmark = pytest.mark.django_db

AWKWARD = [
    "plain",
    'quote " and \\ backslash',
    "tab\tnewline\ncarriage\rend",
    "NULL",
    "",
    "{braces}, commas",
    "中文，全角：“引号”",
    "\\N",
]


def test_insert_rows_keeps_awkward_text_and_nulls():
    content_type = ContentType.objects.get_for_model(Tag).pk
    moment = datetime.datetime(2026, 3, 1, 6, 30, 15, 123456, tzinfo=datetime.UTC)
    rows = [
        (
            content_type,
            n,
            text,
            None if n % 2 else content_type,
            None if n % 3 else n,
            "create",
            "api",
            json.dumps({"name": [None, text]}, ensure_ascii=False),
            moment + datetime.timedelta(days=n),
        )
        for n, text in enumerate(AWKWARD)
    ]
    insert_rows(
        ChangeLogEntry,
        [
            "content_type_id",
            "object_id",
            "object_repr",
            "parent_type_id",
            "parent_id",
            "action",
            "channel",
            "changes",
            "timestamp",
        ],
        rows,
    )
    stored = list(
        ChangeLogEntry.objects.order_by("object_id").values_list(
            "object_id", "object_repr", "parent_type_id", "parent_id", "changes", "timestamp"
        )
    )
    assert stored == [
        (n, text, parent_type, parent_id, json.loads(changes), at)
        for (_, n, text, parent_type, parent_id, _a, _c, changes, at) in rows
    ]


def test_upsert_and_insert_returning_keep_awkward_text():
    made = insert_returning(
        Tag,
        ["name", "color", "created_at"],
        [
            (text or "empty", "#000000", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
            for text in AWKWARD
        ],
        returning=["id", "name"],
    )
    assert sorted(name for _id, name in made) == sorted(t or "empty" for t in AWKWARD)
    upsert_rows(
        Tag,
        ["name", "color", "created_at"],
        [
            (text or "empty", "#ffffff", datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC))
            for text in AWKWARD
        ],
        conflict="name",
        assignments="color = excluded.color",
    )
    assert dict(Tag.objects.values_list("name", "color")) == {
        t or "empty": "#ffffff" for t in AWKWARD
    }


def test_in_array_lookup_matches_in():
    for n, text in enumerate(AWKWARD):
        Tag.objects.create(name=text or "empty", color=f"#00000{n}")
    names = [AWKWARD[1], AWKWARD[2], AWKWARD[6], "not there"]
    assert (
        set(Tag.objects.filter(name__in_array=names).values_list("name", flat=True))
        == set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
        == {AWKWARD[1], AWKWARD[2], AWKWARD[6]}
    )
    ids = list(Tag.objects.values_list("pk", flat=True))[:3]
    assert set(Tag.objects.filter(pk__in_array=ids).values_list("pk", flat=True)) == set(ids)
    assert not Tag.objects.filter(pk__in_array=[]).exists()


@pytest.mark.parametrize("awkward", AWKWARD)
def test_a_value_repeated_down_a_column_is_written_exactly(awkward):
    """A column holding one value (written once, then repeated), and a column
    mixing clean and awkward text, keep every value."""
    content_type = ContentType.objects.get_for_model(Tag).pk
    moment = datetime.datetime(2026, 3, 1, 6, 30, tzinfo=datetime.UTC)
    texts = [awkward] * 4 + ["clean-4", awkward, "clean-6", awkward]
    insert_rows(
        ChangeLogEntry,
        [
            "content_type_id",
            "object_id",
            "object_repr",
            "action",
            "channel",
            "changes",
            "timestamp",
        ],
        [(content_type, n, text, "create", "api", "{}", moment) for n, text in enumerate(texts)],
    )
    stored = ChangeLogEntry.objects.order_by("object_id").values_list("object_repr", "timestamp")
    assert list(stored) == [(text, moment) for text in texts]
    made = insert_returning(
        Tag,
        ["name", "color", "created_at"],
        [(f"{awkward}-{n}", awkward[:7], moment) for n in range(3)],
        returning=["name", "color"],
    )
    assert sorted(made) == [(f"{awkward}-{n}", awkward[:7]) for n in range(3)]


def test_sqlite_rows_come_back_as_a_frame_with_every_text_intact():
    import polars as pl
    from django.db import connection

    from kehu.core.bulk import sqlite_frame

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's CSV path")
    texts = [*AWKWARD, "it's", "''", None]
    tags = [Tag.objects.create(name=f"t{n}", color="#000000") for n in range(len(texts))]
    for tag, text in zip(tags, texts, strict=True):
        Tag.objects.filter(pk=tag.pk).update(name=text if text is not None else f"t{tag.pk}")
    frame = sqlite_frame(
        ["id", "CASE WHEN name LIKE 't%%' AND length(name) < 5 THEN NULL ELSE name END", "1.5"],
        "FROM customers_tag WHERE id IN (SELECT value FROM json_each(%s))",
        [json.dumps([t.pk for t in tags])],
        {"id": pl.Int64, "name": pl.String, "half": pl.Float64},
    ).sort("id")
    got = dict(zip(frame["id"].to_list(), frame["name"].to_list(), strict=True))
    for tag, text in zip(tags, texts, strict=True):
        # An empty text and NULL both come back empty: rules treat them alike.
        assert got[tag.pk] in ((text,) if text else ("", None)), (text, got[tag.pk])
    assert frame["half"].to_list() == [1.5] * len(texts)


def test_sqlite_numbers_come_back_as_written():
    import polars as pl
    from django.db import connection

    from kehu.core.bulk import sqlite_frame

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's CSV path")
    frame = sqlite_frame(
        ["value", "value * -3", "CAST(value AS REAL) / 4"],
        "FROM json_each(%s)",
        [json.dumps([0, 1, 2**40, -7])],
        {"n": pl.Int64, "m": pl.Int64, "q": pl.Float64},
        numbers_only=True,
    ).sort("n")
    assert frame.rows() == [(-7, 21, -1.75), (0, 0, 0.0), (1, -3, 0.25), (2**40, -3 * 2**40, 2**38)]


def test_sqlite_plain_values_and_nulls_come_back_as_written():
    import datetime

    import polars as pl
    from django.db import connection

    from kehu.core.bulk import sqlite_frame

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's CSV path")
    rows = [[1, None, "2026-11-25", "important_value"], [2, 7, None, None], [3, -2, None, ""]]
    frame = sqlite_frame(
        [f"json_extract(value, '$[{i}]')" for i in range(4)],
        "FROM json_each(%s)",
        [json.dumps(rows)],
        {"id": pl.Int64, "n": pl.Int64, "day": pl.Date, "code": pl.String},
        plain=True,
    ).sort("id")
    assert frame.rows() == [
        (1, None, datetime.date(2026, 11, 25), "important_value"),
        (2, 7, None, None),
        (3, -2, None, None),  # an empty code reads as none, as stored_classified wants
    ]
