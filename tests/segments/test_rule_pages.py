"""The pages of the classification standards and the customer page's
classification, through the test client; the shipped standards classify the
demo-like data the way their definitions say."""

import json

import pytest
from django.urls import reverse
from django.utils import translation

from kehu.segments import defaults, labels, runs
from kehu.segments.models import CustomerScore, Dimension, ManualAssignment, Rule, RunTrigger

from ..conftest import make_customer, system_actor
from .test_engine import AS_OF
from .test_runs import entries, history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def run():
    return runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )


def test_shipped_names_are_all_marked_for_translation():
    with translation.override("en"):
        marked = {str(name) for name in labels.SHIPPED_DIMENSION_NAMES}
    for _key, name, _applies, _multiple, values in defaults.DIMENSIONS:
        assert name in marked
        assert {value_name for _k, value_name, _c in values} <= marked


def test_shipped_standards_classify_by_their_definitions(history):  # noqa: F811
    company = make_customer(
        name="杭州某某制造有限公司",
        kind="organization",
        province="浙江省",
        industry="机械制造",
        employees=120,
    )
    shop = make_customer(
        name="广州小店", kind="organization", province="广东", company_size="micro"
    )
    run()
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}

    def values(customer, key):
        return [e["value"] for e in entries(scores[customer.pk], key)]

    assert values(company, "customer_type") == ["company"]
    assert values(company, "region") == ["east"]
    assert values(company, "industry") == ["manufacturing"]
    assert values(company, "company_size") == ["medium"]
    assert values(company, "purchase_behaviour") == ["prospect"]
    assert values(company, "relationship") == ["potential"]
    assert values(shop, "region") == ["south"] and values(shop, "company_size") == ["micro"]
    assert values(shop, "industry") == []  # no industry given
    person = history[4]
    assert values(person, "customer_type") == ["individual"]
    assert values(person, "company_size") == []  # for organisations only
    orders = CustomerScore.objects.get(pk=person.pk).rfm_frequency
    assert values(person, "purchase_behaviour") == ["repeat" if orders >= 2 else "first"]


def test_admin_builds_a_dimension_and_a_rule_in_the_pages(client, people, history):  # noqa: F811
    client.force_login(people["admin"])
    page = client.get(reverse("segments:dimensions"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "客户类型" in page.content.decode() and "华东" in page.content.decode()
    created = client.post(
        reverse("segments:dimension_new"),
        {
            "key": "tier",
            "name": "会员层级",
            "applies_to": "both",
            "active": "on",
            "value_name": ["金牌", "", "普通"],
            "value_key": ["gold", "", "plain"],
        },
    )
    tier = Dimension.objects.get(key="tier")
    assert created.status_code == 302 and [v.key for v in tier.values.all()] == ["gold", "plain"]
    bad = client.post(reverse("segments:dimension_new"), {"key": "Bad Key", "name": ""})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    gold = tier.values.get(key="gold")
    form = {
        "name": "买得多",
        "target": "value",
        "value": gold.pk,
        "priority": "5",
        "active": "on",
        "conditions": json.dumps({"field": "order_count", "operator": "gte", "value": 3}),
    }
    run()
    expected = CustomerScore.objects.filter(rfm_frequency__gte=3).count()
    preview = client.post(reverse("segments:rule_preview"), form, HTTP_ACCEPT_LANGUAGE="en")
    text = preview.content.decode()
    assert f"match {expected} of" in text and "preview-sample" in text
    assert not Rule.objects.filter(name="买得多").exists()
    broken = client.post(reverse("segments:rule_preview"), {**form, "conditions": "[]"})
    assert "errorlist" in broken.content.decode()
    saved = client.post(reverse("segments:rule_new"), form)
    rule = Rule.objects.get(name="买得多")
    assert saved.status_code == 302 and rule.value == gold and rule.priority == 5
    edit = client.get(reverse("segments:rule", args=[rule.pk]))
    assert 'id="rule-fields"' in edit.content.decode()
    run()
    frequent = CustomerScore.objects.filter(rfm_frequency__gte=3).first().customer
    detail = client.get(reverse("customers:detail", args=[frequent.pk]))
    shown = detail.content.decode()
    assert "金牌" in shown and "买得多" in shown  # the value and the rule that gave it


def test_values_given_by_hand_on_the_customer_page(client, people, history):  # noqa: F811
    run()
    customer = history[3]
    dimension = Dimension.objects.get(key="relationship")
    churned = dimension.values.get(key="churned")
    client.force_login(people["admin"])
    given = client.post(reverse("segments:manual_value", args=[customer.pk]), {"value": churned.pk})
    assert given.status_code == 302
    page = client.get(reverse("customers:detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "given by hand by admin" in page.content.decode()
    client.post(
        reverse("segments:manual_value", args=[customer.pk]),
        {"value": churned.pk, "action": "remove"},
    )
    assert not ManualAssignment.objects.exists()
    client.force_login(people["support"])  # sees every customer, edits none
    refused = client.post(
        reverse("segments:manual_value", args=[customer.pk]), {"value": churned.pk}
    )
    assert refused.status_code == 403 and not ManualAssignment.objects.exists()


def test_who_may_open_the_standards(client, people):
    client.force_login(people["sales"])
    assert client.get(reverse("segments:dimensions")).status_code == 403
    client.force_login(people["analyst"])
    page = client.get(reverse("segments:rule_new"))
    assert page.status_code == 200 and '<fieldset class="plain" disabled' in page.content.decode()
    assert client.post(reverse("segments:rule_new"), {"name": "x"}).status_code == 403


def test_grading_schemes_in_a_form(client, people):
    from kehu.segments.models import GradeScheme

    client.force_login(people["admin"])
    form = {
        "key": "tiers",
        "name": "高中低",
        "method": "quantiles",
        "weight_recency": "30",
        "weight_frequency": "30",
        "weight_monetary": "40",
        "weight_loyalty": "0",
        "grade_label": ["高", "中", "低", ""],
        "grade_value": ["20", "50", "20", ""],
        "active": "on",
    }
    refused = client.post(reverse("segments:grade_scheme_new"), form, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200 and "add up to 100" in refused.content.decode()
    assert not GradeScheme.objects.filter(key="tiers").exists()
    saved = client.post(
        reverse("segments:grade_scheme_new"), {**form, "grade_value": ["20", "50", "30", ""]}
    )
    scheme = GradeScheme.objects.get(key="tiers")
    assert saved.status_code == 302
    assert scheme.grades == [
        {"label": "高", "value": 20.0},
        {"label": "中", "value": 50.0},
        {"label": "低", "value": 30.0},
    ]
    assert float(scheme.weight_monetary) == 40.0
    page = client.get(reverse("segments:dimensions"))
    assert "高中低" in page.content.decode()
    client.force_login(people["analyst"])
    assert client.post(reverse("segments:grade_scheme", args=[scheme.pk]), form).status_code == 403
