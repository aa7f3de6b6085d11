"""Editing the classification standards: dimensions and values, rules that set
a value or a tag, values given by hand, and the preview of a rule before it is
saved, checked against counts made here from the order rows."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.changelog import Actor
from kehu.core.models import ChangeLogEntry, Channel
from kehu.customers.models import Customer, CustomerTag, Tag
from kehu.segments import dimension_services as services
from kehu.segments import runs
from kehu.segments.models import (
    CustomerScore,
    Dimension,
    DimensionValue,
    ManualAssignment,
    Rule,
    RunTrigger,
)
from kehu.segments.preview import rule_preview

from ..conftest import make_customer, system_actor
from .test_engine import AS_OF
from .test_runs import entries, expected_from_orders, history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def actor(user) -> Actor:
    return Actor(user=user, channel=Channel.UI)


def run():
    return runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )


def spend_dimension(admin) -> Dimension:
    return services.dimension_save(
        actor=actor(admin),
        data={
            "key": "spend",
            "name": "消费档次",
            "values": [{"key": "many", "name": "多次"}, {"key": "few", "name": "少量"}],
        },
    )


def value(dimension: Dimension, key: str) -> DimensionValue:
    return dimension.values.get(key=key)


def orders_at_least(n: int) -> dict:
    return {"field": "order_count", "operator": "gte", "value": n}


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# ---- dimensions ----------------------------------------------------------------


def test_dimension_save_validates_keeps_values_by_key_and_logs(people):
    admin = people["admin"]
    bad = {"key": "Spend!", "name": "", "values": [{"key": "a", "name": "A"}] * 2}
    found = errors_of(lambda: services.dimension_save(actor=actor(admin), data=bad))
    assert set(found) == {"key", "name", "values"}
    assert "a" in found["values"][0]
    with pytest.raises(PermissionDenied):
        services.dimension_save(
            actor=actor(people["analyst"]), data={"key": "x", "name": "x", "values": []}
        )
    dimension = spend_dimension(admin)
    many = value(dimension, "many")
    customer = make_customer(name="王五")
    services.manual_assign(actor=actor(admin), customer=customer, value=many)
    # renaming keeps the value (and who has it by hand); the order follows the list
    services.dimension_save(
        actor=actor(admin),
        dimension=dimension,
        data={"values": [{"key": "few", "name": "少量"}, {"key": "many", "name": "常客"}]},
    )
    many.refresh_from_db()
    assert (many.name, many.position) == ("常客", 2)
    assert ManualAssignment.objects.filter(customer=customer, value=many).exists()
    entry = ChangeLogEntry.objects.filter(object_id=dimension.pk, action="update").latest("id")
    assert entry.changes["values"] == [["many: 多次", "few: 少量"], ["few: 少量", "many: 常客"]]
    # a value a rule sets cannot go
    services.rule_save(
        actor=actor(admin),
        data={"name": "常客", "value": many.pk, "conditions": orders_at_least(3)},
    )
    found = errors_of(
        lambda: services.dimension_save(
            actor=actor(admin), dimension=dimension, data={"values": [{"key": "few", "name": "少"}]}
        )
    )
    assert "常客" in found["values"][0]
    assert errors_of(lambda: services.dimension_delete(actor=actor(admin), dimension=dimension))


def test_single_value_dimension_refused_while_customers_have_several(people):
    admin = people["admin"]
    dimension = services.dimension_save(
        actor=actor(admin),
        data={
            "key": "needs",
            "name": "需求",
            "multiple": True,
            "values": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
        },
    )
    customer = make_customer()
    for key in ("a", "b"):
        services.manual_assign(actor=actor(admin), customer=customer, value=value(dimension, key))
    found = errors_of(
        lambda: services.dimension_save(
            actor=actor(admin), dimension=dimension, data={"multiple": False}
        )
    )
    assert "1" in found["multiple"][0]


# ---- rules ---------------------------------------------------------------------


def test_rule_save_refuses_bad_input_naming_the_field_and_where(people):
    admin = people["admin"]
    dimension = spend_dimension(admin)
    many = value(dimension, "many")
    ok = orders_at_least(1)
    cases = [
        ({"name": "x", "conditions": orders_at_least(1)}, "value"),  # sets nothing
        ({"name": "x", "value": many.pk, "tag": "VIP", "conditions": orders_at_least(1)}, "value"),
        ({"name": "x", "value": 999_999, "conditions": orders_at_least(1)}, "value"),
        ({"name": "x", "tag": "t" * 51, "conditions": orders_at_least(1)}, "tag"),
        ({"name": "", "value": many.pk, "conditions": orders_at_least(1)}, "name"),
        ({"name": "x", "value": many.pk, "conditions": "{not json"}, "conditions"),
        ({"name": "x", "value": many.pk, "conditions": ok, "priority": -1}, "priority"),
        ({"name": "x", "value": many.pk, "conditions": ok, "active": "maybe"}, "active"),
    ]  # fmt: skip
    for data, field in cases:
        assert field in errors_of(lambda d=data: services.rule_save(actor=actor(admin), data=d))
    nested = {
        "op": "and",
        "conditions": [
            orders_at_least(1),
            {"field": "order_count", "operator": "gte", "value": "x"},
        ],
    }
    found = errors_of(
        lambda: services.rule_save(
            actor=actor(admin), data={"name": "x", "value": many.pk, "conditions": nested}
        )
    )
    assert "1.value" in found["conditions"][0]
    with pytest.raises(PermissionDenied):
        services.rule_save(
            actor=actor(people["manager"]),
            data={"name": "x", "value": many.pk, "conditions": orders_at_least(1)},
        )
    assert (
        not Rule.objects.filter(name="x").exists() and not Tag.objects.filter(name="VIP").exists()
    )


def test_tag_rules_give_and_take_back_only_their_own_tags(history, people):  # noqa: F811
    admin = people["admin"]
    spend = expected_from_orders()["M"] / 10_000  # net spend per customer, from the orders
    threshold = float(spend.median())
    rule = services.rule_save(
        actor=actor(admin),
        data={
            "name": "大客户",
            "tag": "大客户",
            "conditions": {"field": "total_spent", "operator": "gte", "value": threshold},
        },
    )
    tag = Tag.objects.get(name="大客户")
    poor = [c for c in history if spend.get(c.pk, 0) < threshold]
    by_hand = poor[0]
    CustomerTag.objects.create(customer=by_hand, tag=tag)
    first = run()

    def holders(**extra):
        return set(
            CustomerTag.objects.filter(tag=tag, **extra).values_list("customer_id", flat=True)
        )

    expected = {pk for pk, m in spend.items() if m >= threshold}
    assert holders(given_by_rule=rule.pk) == expected
    assert holders() == expected | {by_hand.pk}
    assert first.stats["tags"] == {"added": len(expected), "removed": 0}
    logged = ChangeLogEntry.objects.filter(
        changes__has_key="tags", object_id__in=expected, channel="system"
    )
    assert logged.count() == len(expected)
    sample = logged.first()
    assert sample.changes["tags"] == [[], ["大客户"]]

    raised = float(spend.max())
    services.rule_save(
        actor=actor(admin),
        rule=rule,
        data={"conditions": {"field": "total_spent", "operator": "gte", "value": raised}},
    )
    second = run()
    top = {pk for pk, m in spend.items() if m >= raised}
    assert holders() == top | {by_hand.pk}
    assert second.stats["tags"] == {"added": 0, "removed": len(expected - top)}
    services.rule_save(actor=actor(admin), rule=rule, data={"active": False})
    run()
    assert holders() == {by_hand.pk}  # the tag a person gave stays


def test_rules_of_a_dimension_for_one_kind_skip_the_other(history, people):  # noqa: F811
    admin = people["admin"]
    dimension = services.dimension_save(
        actor=actor(admin),
        data={
            "key": "org_size",
            "name": "规模",
            "applies_to": "organization",
            "values": [{"key": "big", "name": "大"}],
        },
    )
    everyone = {
        "op": "or",
        "conditions": [orders_at_least(0), {"field": "order_count", "operator": "empty"}],
    }
    services.rule_save(
        actor=actor(admin),
        data={"name": "大", "value": value(dimension, "big").pk, "conditions": everyone},
    )
    company = make_customer(name="某某有限公司", kind="organization", employees=500)
    run()
    with_value = {s.customer_id for s in CustomerScore.objects.all() if entries(s, "org_size")}
    assert with_value == {company.pk}
    person = history[0]
    found = errors_of(
        lambda: services.manual_assign(
            actor=actor(admin), customer=person, value=value(dimension, "big")
        )
    )
    assert "value" in found


def test_a_value_given_by_hand_shows_at_once_wins_and_is_logged(history, people):  # noqa: F811
    admin = people["admin"]
    dimension = spend_dimension(admin)
    many, few = value(dimension, "many"), value(dimension, "few")
    services.rule_save(
        actor=actor(admin),
        data={"name": "常客", "value": many.pk, "conditions": orders_at_least(3)},
    )
    run()
    frequent = next(c for c in history if expected_from_orders()["F"].get(c.pk, 0) >= 3)
    score = CustomerScore.objects.get(pk=frequent.pk)
    assert [e["value"] for e in entries(score, "spend")] == ["many"]
    with pytest.raises(PermissionDenied):
        services.manual_assign(actor=actor(people["sales_west"]), customer=frequent, value=few)
    services.manual_assign(actor=actor(admin), customer=frequent, value=few)
    score.refresh_from_db()
    assert entries(score, "spend") == [{"value": "few", "rule": None, "by_hand": True, "fired": {}}]
    entry = ChangeLogEntry.objects.filter(object_id=frequent.pk).latest("id")
    assert entry.changes == {"dimension.spend": [[], ["few"]]}
    services.manual_assign(actor=actor(admin), customer=frequent, value=many)  # replaces few
    assert list(
        ManualAssignment.objects.filter(customer=frequent).values_list("value__key", flat=True)
    ) == ["many"]
    services.manual_unassign(actor=actor(admin), customer=frequent, value=many)
    score.refresh_from_db()
    assert entries(score, "spend")[0]["rule"] is not None  # the rule decides again


# ---- preview -------------------------------------------------------------------


def test_preview_counts_what_the_rule_would_move_without_saving(history, people):  # noqa: F811
    admin = people["admin"]
    dimension = spend_dimension(admin)
    many, few = value(dimension, "many"), value(dimension, "few")
    saved = services.rule_save(
        actor=actor(admin),
        data={"name": "常客", "value": many.pk, "conditions": orders_at_least(3)},
    )
    run()
    live = Customer.objects.count()
    orders = expected_from_orders()["F"]
    ids = list(Customer.objects.values_list("pk", flat=True))

    def count(test) -> int:
        return sum(1 for pk in ids if test(orders.get(pk, 0)))

    # a new rule, first by priority, for 1 or more orders: those with 1-2 get "few",
    # and those with 3 or more move from "many" to "few"
    draft = {
        "name": "少量",
        "value": few.pk,
        "priority": 5,
        "conditions": {"field": "order_count", "operator": "gte", "value": 1},
    }
    before_rules = Rule.objects.count()
    preview = rule_preview(actor=actor(admin), data=draft)
    assert Rule.objects.count() == before_rules
    assert preview.customers == live
    assert preview.matching == count(lambda n: n >= 1)
    assert preview.gaining == count(lambda n: n >= 1)
    assert preview.losing == 0
    assert preview.moving == count(lambda n: n >= 1)
    assert len(preview.sample) == min(20, preview.moving)
    row = preview.sample[0]
    assert row["after"] == ["少量"] and row["fired"]["order_count"] == orders[row["customer"]]
    assert row["before"] == (["多次"] if orders[row["customer"]] >= 3 else [])
    # editing the saved rule: from 3 orders to 4, those with exactly 3 lose "many"
    edit = rule_preview(actor=actor(admin), rule=saved, data={"conditions": orders_at_least(4)})
    assert edit.losing == edit.moving == count(lambda n: n == 3)
    assert edit.gaining == 0 and edit.matching == count(lambda n: n >= 4)
    # switching it off: everyone with it loses it
    off = rule_preview(actor=actor(admin), rule=saved, data={"active": False})
    assert off.losing == count(lambda n: n >= 3)
    with pytest.raises(PermissionDenied):
        rule_preview(actor=actor(people["analyst"]), data=draft)
    assert "conditions" in errors_of(
        lambda: rule_preview(actor=actor(admin), data={**draft, "conditions": {"op": "xor"}})
    )


def test_preview_of_a_tag_rule_keeps_hand_given_tags(history, people):  # noqa: F811
    admin = people["admin"]
    spend = expected_from_orders()["M"] / 10_000
    threshold = float(spend.median())
    condition = {"field": "total_spent", "operator": "gte", "value": threshold}
    run()
    fresh = rule_preview(
        actor=actor(admin), data={"name": "VIP", "tag": "新标签", "conditions": condition}
    )
    expected = {pk for pk, m in spend.items() if m >= threshold}
    assert fresh.gaining == fresh.moving == fresh.matching == len(expected)
    assert not Tag.objects.filter(name="新标签").exists()  # a preview creates nothing
    rule = services.rule_save(
        actor=actor(admin), data={"name": "VIP", "tag": "VIP", "conditions": condition}
    )
    low = next(c for c in history if spend.get(c.pk, 0) < threshold)
    CustomerTag.objects.create(customer=low, tag=rule.tag)
    run()
    off = rule_preview(actor=actor(admin), rule=rule, data={"active": False})
    assert off.losing == off.moving == len(expected)  # not the hand-given one
    assert off.gaining == 0
    assert all(row["before"] == ["VIP"] and row["after"] == [] for row in off.sample)


def test_rules_read_custom_fields_revenue_and_age_of_the_record(people):
    from kehu.core.models import CustomFieldDefinition

    admin = people["admin"]
    CustomFieldDefinition.objects.create(
        key="level", label="级别", field_type="choice", choices=["金", "银"]
    )
    CustomFieldDefinition.objects.create(key="visits", label="来访", field_type="integer")
    gold = make_customer(name="甲", custom_fields={"level": "金", "visits": 12})
    make_customer(name="乙", custom_fields={"level": "银", "visits": 30})
    make_customer(name="丙", custom_fields={"level": "金", "visits": 3})
    rich = make_customer(name="丁公司", kind="organization", annual_revenue="2500000.00")
    Customer.objects.filter(pk=rich.pk).update(
        created_at=rich.created_at - datetime.timedelta(days=400)
    )
    dimension = spend_dimension(admin)
    many = value(dimension, "many")

    def matching(condition) -> int:
        data = {"name": "x", "value": many.pk, "conditions": condition}
        return rule_preview(actor=actor(admin), data=data).matching

    gold_and_frequent = {
        "op": "and",
        "conditions": [
            {"field": "cf.level", "operator": "eq", "value": "金"},
            {"field": "cf.visits", "operator": "gte", "value": 10},
        ],
    }
    assert matching(gold_and_frequent) == 1
    assert (
        rule_preview(
            actor=actor(admin),
            data={"name": "x", "value": many.pk, "conditions": gold_and_frequent},
        ).sample[0]["customer"]
        == gold.pk
    )
    assert matching({"field": "annual_revenue", "operator": "gt", "value": 2_000_000}) == 1
    assert matching({"field": "days_since_created", "operator": "gte", "value": 399}) == 1
    assert matching({"field": "days_since_created", "operator": "lte", "value": 1}) == 3
    assert matching({"field": "cf.visits", "operator": "empty"}) == 1  # the company
