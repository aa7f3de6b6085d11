"""Every rule operator, and groups of them, against a plain Python evaluation;
invalid conditions are refused with where and why."""

import random

import polars as pl
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.segments import rules

FIELDS = rules.fields_for({"level": rules.TEXT, "visits": rules.NUMBER})


def customers(seed: int = 1, n: int = 200) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for pk in range(n):
        rows.append(
            {
                "customer": pk,
                "province": rng.choice(["浙江省", "广东省", "北京市", "", None]),
                "industry": rng.choice(["零售", "制造业", "教育", None]),
                "total_spent": rng.choice([None, 0.0, 99.5, 100.0, 1500.0, 2500.0]),
                "order_count": rng.choice([None, 0, 1, 2, 5]),
                "tags": rng.choice([[], ["VIP"], ["VIP", "大客户"], ["老客户"], None]),
                "cf.level": rng.choice(["金卡", "银卡", None]),
                "cf.visits": rng.choice([None, 1, 3, 8]),
                "purchases_in_90_days": rng.choice([0, 1, 3]),
            }
        )
    return rows


def frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "customer": pl.Int64,
            "province": pl.String,
            "industry": pl.String,
            "total_spent": pl.Float64,
            "order_count": pl.Int64,
            "tags": pl.List(pl.String),
            "cf.level": pl.String,
            "cf.visits": pl.Int64,
            "purchases_in_90_days": pl.Int64,
        },
    )


def plain(test: dict, row: dict) -> bool:
    """The documented meaning of a test, in Python."""
    column = test["field"]
    if column == "purchases_in_days":
        column = f"purchases_in_{test['days']}_days"
    value, op, target = row[column], test["operator"], test.get("value")
    if op == "empty":
        return value is None or value == ""
    if op == "not_empty":
        return value is not None and value != ""
    if op == "has":
        return target in (value or [])
    if op == "has_not":
        return target not in (value or [])
    if op == "ne":
        return value is None or value != (
            float(target) if isinstance(value, float | int) else target
        )
    if op == "not_in":
        return value is None or value not in target
    if value is None:
        return False
    if op == "between":
        return target[0] <= value <= target[1]
    if op == "in":
        return value in target
    if op == "contains":
        return target in value
    if op == "starts_with":
        return value.startswith(target)
    target = float(target) if isinstance(value, int | float) else target
    return {
        "eq": value == target,
        "gt": value > target,
        "gte": value >= target,
        "lt": value < target,
        "lte": value <= target,
    }[op]


TESTS = [
    {"field": "total_spent", "operator": op, "value": 100}
    for op in ("eq", "ne", "gt", "gte", "lt", "lte")
] + [
    {"field": "total_spent", "operator": "between", "value": [99.5, 1500]},
    {"field": "total_spent", "operator": "empty"},
    {"field": "order_count", "operator": "not_empty"},
    {"field": "province", "operator": "eq", "value": "浙江省"},
    {"field": "province", "operator": "ne", "value": "浙江省"},
    {"field": "province", "operator": "in", "value": ["浙江省", "广东省"]},
    {"field": "province", "operator": "not_in", "value": ["浙江省", "广东省"]},
    {"field": "province", "operator": "contains", "value": "江"},
    {"field": "province", "operator": "starts_with", "value": "北"},
    {"field": "province", "operator": "empty"},
    {"field": "industry", "operator": "not_empty"},
    {"field": "tags", "operator": "has", "value": "VIP"},
    {"field": "tags", "operator": "has_not", "value": "VIP"},
    {"field": "cf.level", "operator": "eq", "value": "金卡"},
    {"field": "cf.visits", "operator": "gte", "value": 3},
    {"field": "purchases_in_days", "days": 90, "operator": "gte", "value": 1},
]


@pytest.mark.parametrize("test", TESTS, ids=lambda t: f"{t['field']}-{t['operator']}")
def test_every_operator_matches_plain_python(test):
    rows = customers()
    table = frame(rows)
    got = table.filter(rules.compile_condition(test, FIELDS))["customer"].to_list()
    expected = [row["customer"] for row in rows if plain(test, row)]
    assert got == expected
    assert 0 < len(expected) < len(rows)  # the data tells matches from the rest


conditions = st.recursive(
    st.sampled_from(TESTS),
    lambda inner: st.builds(
        lambda op, items: {"op": op, "conditions": items},
        st.sampled_from(["and", "or"]),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=8,
)


def plain_condition(condition, row) -> bool:
    if "conditions" in condition:
        parts = [plain_condition(c, row) for c in condition["conditions"]]
        return all(parts) if condition["op"] == "and" else any(parts)
    return plain(condition, row)


@settings(max_examples=80, deadline=None)
@given(condition=conditions)
def test_groups_of_and_and_or_match_plain_python(condition):
    rows = customers(2, 120)
    got = frame(rows).filter(rules.compile_condition(condition, FIELDS))["customer"].to_list()
    assert got == [row["customer"] for row in rows if plain_condition(condition, row)]


@pytest.mark.parametrize(
    "condition, path, reason",
    [
        ({"field": "nope", "operator": "eq", "value": 1}, "field", "unknown field"),
        ({"field": "total_spent", "operator": "contains", "value": 1}, "operator", "takes"),
        ({"field": "total_spent", "operator": "gt", "value": "abc"}, "value", "enter a number"),
        ({"field": "total_spent", "operator": "gt", "value": True}, "value", "enter a number"),
        ({"field": "total_spent", "operator": "between", "value": [5, 1]}, "value", "low"),
        ({"field": "province", "operator": "in", "value": []}, "value", "list"),
        ({"field": "purchases_in_days", "operator": "gt", "value": 1}, "days", "days"),
        ({"op": "xor", "conditions": [TESTS[0]]}, "op", "and or or"),
        ({"op": "and", "conditions": []}, "conditions", "needs conditions"),
        (
            {"op": "or", "conditions": [TESTS[0], {"field": "x", "operator": "eq"}]},
            "1.field",
            "unknown",
        ),
        ("total_spent > 5", "", "object"),
    ],
)
def test_invalid_conditions_say_where_and_why(condition, path, reason):
    with translation.override("en"), pytest.raises(rules.RuleError) as refused:
        rules.compile_condition(condition, FIELDS)
    assert refused.value.path == path and reason in refused.value.reason


def test_the_reasons_are_translated():
    with translation.override("zh-hans"), pytest.raises(rules.RuleError) as refused:
        rules.compile_condition({"field": "total_spent", "operator": "gte", "value": "x"}, FIELDS)
    assert refused.value.reason == "请输入数字"


def test_referenced_fields_in_order():
    inner = {"op": "or", "conditions": [TESTS[0], TESTS[12]]}
    condition = {"op": "and", "conditions": [TESTS[-1], TESTS[0], inner]}
    assert rules.referenced(condition) == [
        ("purchases_in_days", 90),
        ("total_spent", None),
        ("province", None),
    ]
