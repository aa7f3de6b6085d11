"""Classification rules: conditions an admin writes in a form, compiled to
Polars expressions over a frame with one row per customer. No database: the
same code previews a rule, runs it nightly and is tested against plain Python
(its messages are translated).

A condition is JSON:

- a group ``{"op": "and" | "or", "conditions": [...]}``, nested freely;
- a test ``{"field": "net_spend", "operator": "gte", "value": 1000}``. The
  metric ``purchases_in_days`` also takes ``"days": 90``.

Field kinds and their operators:

| kind | operators |
| --- | --- |
| number | eq ne gt gte lt lte between (value [low, high]) empty not_empty |
| text | eq ne in not_in (value a list) contains starts_with empty not_empty |
| tags | has has_not (value a tag name) |

A customer matches a test only when the field has a value, except for
``empty``, ``ne``, ``not_in`` and ``has_not``, which also match customers
without one.
"""

from dataclasses import dataclass

import polars as pl
from django.utils.translation import gettext as _

NUMBER, TEXT, TAGS = "number", "text", "tags"
OPERATORS = {
    NUMBER: {"eq", "ne", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"},
    TEXT: {"eq", "ne", "in", "not_in", "contains", "starts_with", "empty", "not_empty"},
    TAGS: {"has", "has_not"},
}
MAX_DEPTH = 5
MAX_TESTS = 50


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    column: str  # in the evaluation frame


# Customer fields, purchase and service metrics, and the run's own results.
BUILT_IN = [
    Field("kind", TEXT, "kind"),
    Field("status", TEXT, "status"),
    Field("source", TEXT, "source"),
    Field("province", TEXT, "province"),
    Field("city", TEXT, "city"),
    Field("industry", TEXT, "industry"),
    Field("company_size", TEXT, "company_size"),
    Field("employees", NUMBER, "employees"),
    Field("annual_revenue", NUMBER, "annual_revenue"),
    Field("owner", NUMBER, "owner_id"),
    Field("team", NUMBER, "team_id"),
    Field("days_since_created", NUMBER, "days_since_created"),
    Field("tags", TAGS, "tags"),
    Field("order_count", NUMBER, "order_count"),
    Field("total_spent", NUMBER, "total_spent"),
    Field("average_spent", NUMBER, "average_spent"),
    Field("days_since_last_purchase", NUMBER, "days_since_last_purchase"),
    Field("purchases_in_days", NUMBER, "purchases_in_days"),  # with "days"
    Field("open_complaints", NUMBER, "open_complaints"),
    Field("nps", NUMBER, "nps"),
    Field("csat", NUMBER, "csat"),
    Field("rfm_segment", TEXT, "rfm_segment"),
    Field("rfm_class", TEXT, "rfm_class"),
    Field("lifecycle_stage", TEXT, "lifecycle_stage"),
    Field("r_score", NUMBER, "r_score"),
    Field("f_score", NUMBER, "f_score"),
    Field("m_score", NUMBER, "m_score"),
]
BUILT_IN_FIELDS = {f.name: f for f in BUILT_IN}


class RuleError(ValueError):
    """A condition that cannot be evaluated: ``path`` says where (0.2.value)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path, self.reason = path, reason


def fields_for(custom: dict[str, str]) -> dict[str, Field]:
    """The built-in fields and the custom fields (``cf.<key>``), given their
    kinds (number or text)."""
    found = dict(BUILT_IN_FIELDS)
    for key, kind in custom.items():
        found[f"cf.{key}"] = Field(f"cf.{key}", kind, f"cf.{key}")
    return found


def _number(value, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleError(path, _("enter a number"))
    try:
        number = float(value)
    except ValueError:
        raise RuleError(path, _("enter a number")) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RuleError(path, _("enter a number"))
    return number


def _text(value, path: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise RuleError(path, _("enter a value"))
    return str(value)


def compile_condition(
    condition, fields: dict[str, Field], path: str = "", depth: int = 0
) -> pl.Expr:
    """A Polars boolean expression for ``condition``; RuleError when it is not
    valid (unknown field, operator that the field's kind does not have, a
    value of the wrong kind)."""
    if not isinstance(condition, dict):
        raise RuleError(path, _("a condition is an object"))
    if "op" in condition or "conditions" in condition:
        if depth >= MAX_DEPTH:
            raise RuleError(path, _("groups nest at most %(n)d deep") % {"n": MAX_DEPTH})
        op = condition.get("op")
        items = condition.get("conditions")
        if op not in ("and", "or"):
            raise RuleError(f"{path}.op".lstrip("."), _("use and or or"))
        if not isinstance(items, list) or not items:
            raise RuleError(f"{path}.conditions".lstrip("."), _("a group needs conditions"))
        parts = [
            compile_condition(item, fields, f"{path}.{n}".lstrip("."), depth + 1)
            for n, item in enumerate(items)
        ]
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if op == "and" else (combined | part)
        return combined
    return _compile_test(condition, fields, path)


def _compile_test(test: dict, fields: dict[str, Field], path: str) -> pl.Expr:
    at = lambda key: f"{path}.{key}".lstrip(".")  # noqa: E731
    field = fields.get(test.get("field"))
    if field is None:
        raise RuleError(at("field"), _("unknown field %(field)r") % {"field": test.get("field")})
    operator = test.get("operator")
    if operator not in OPERATORS[field.kind]:
        allowed = ", ".join(sorted(OPERATORS[field.kind]))
        raise RuleError(
            at("operator"),
            _("%(field)s takes %(operators)s") % {"field": field.name, "operators": allowed},
        )
    column = field.column
    if field.name == "purchases_in_days":
        days = test.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise RuleError(at("days"), _("a whole number of days from 1 to 3650"))
        column = f"purchases_in_{days}_days"
    col = pl.col(column)
    value = test.get("value")
    if operator == "empty":
        return col.is_null() if field.kind == NUMBER else col.is_null() | (col == "")
    if operator == "not_empty":
        return col.is_not_null() if field.kind == NUMBER else col.is_not_null() & (col != "")
    if field.kind == TAGS:
        has = col.list.contains(pl.lit(_text(value, at("value")))).fill_null(False)
        return has if operator == "has" else ~has
    if field.kind == NUMBER:
        if operator == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise RuleError(at("value"), _("between takes [low, high]"))
            low, high = (_number(v, at("value")) for v in value)
            if low > high:
                raise RuleError(at("value"), _("low must not be above high"))
            return col.is_between(low, high).fill_null(False)
        number = _number(value, at("value"))
        compare = {
            "eq": col == number,
            "ne": col != number,
            "gt": col > number,
            "gte": col >= number,
            "lt": col < number,
            "lte": col <= number,
        }[operator]
        return compare.fill_null(operator == "ne")
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise RuleError(at("value"), _("in takes a list of values"))
        texts = [_text(v, at("value")) for v in value]
        inside = col.is_in(texts).fill_null(False)
        return inside if operator == "in" else ~inside
    text = _text(value, at("value"))
    if operator == "eq":
        return (col == text).fill_null(False)
    if operator == "ne":
        return (col != text).fill_null(True)
    if operator == "contains":
        return col.str.contains(text, literal=True).fill_null(False)
    return col.str.starts_with(text).fill_null(False)


def referenced(condition) -> list[tuple[str, int | None]]:
    """The (field, days) a valid condition reads, in order, without repeats."""
    found: list[tuple[str, int | None]] = []

    def walk(node):
        if "conditions" in node:
            for item in node["conditions"]:
                walk(item)
            return
        key = (node["field"], node.get("days") if node["field"] == "purchases_in_days" else None)
        if key not in found:
            found.append(key)

    walk(condition)
    return found


def column_of(field: Field, days: int | None) -> str:
    return f"purchases_in_{days}_days" if field.name == "purchases_in_days" else field.column
