"""An admin writes a classification rule in the browser without code: picks a
field and an operator in the builder, previews who it would move, saves it;
after the run, the customer page says which value each customer has and why,
and a rep gives a value by hand."""

import pytest
from playwright.sync_api import expect

from kehu.core.changelog import Actor
from kehu.segments import dimension_services, runs
from kehu.segments.models import CustomerScore, ManualAssignment, Rule, RunTrigger

from ..conftest import make_customer
from ..segments.test_engine import AS_OF
from ..segments.test_runs import entries, history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_rule_from_builder_to_preview_to_customer_page(page_for, people, history, request):  # noqa: F811
    admin = people["admin"]
    dimension = dimension_services.dimension_save(
        actor=Actor(admin),
        data={
            "key": "scale",
            "name": "规模",
            "values": [{"key": "big", "name": "大客户"}, {"key": "small", "name": "小客户"}],
        },
    )
    big = dimension.values.get(key="big")
    companies = [
        make_customer(name=f"公司{n}", kind="organization", employees=n * 60, owner=people["sales"])
        for n in range(1, 6)
    ]
    runs.segment_run(
        actor=Actor.system(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    expected = sum(1 for c in companies if c.employees >= 200)

    page = page_for(admin, locale="zh-CN")
    page.goto(f"/segments/rules/new/?value={big.pk}")
    page.get_by_label("名称").first.fill("员工多")
    builder = page.locator("[data-rule-builder]")
    test_row = builder.locator(".rb-test").first
    test_row.locator("select.rb-field").select_option("employees")
    test_row.locator("select.rb-operator").select_option("gte")
    test_row.locator("input.rb-value").fill("200")
    page.get_by_test_id("preview").click()
    counts = page.get_by_test_id("preview-counts")
    expect(counts).to_contain_text(f"中的 {expected} 个")
    expect(page.get_by_test_id("preview-sample")).to_contain_text("员工人数: 240")
    assert not Rule.objects.filter(name="员工多").exists()
    page.screenshot(path=str(request.config.rootpath / "test-results" / "rule-preview.png"))
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已保存")
    rule = Rule.objects.get(name="员工多")
    assert rule.value == big
    assert rule.conditions == {
        "op": "and",
        "conditions": [{"field": "employees", "operator": "gte", "value": 200}],
    }

    runs.segment_run(
        actor=Actor.system(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    largest = companies[-1]
    page.goto(f"/customers/{largest.pk}/")
    panel = page.locator('[data-dimension="scale"]')
    expect(panel.get_by_test_id("dimension-value")).to_have_text("大客户")
    expect(panel.get_by_test_id("why")).to_contain_text("规则“员工多”：员工人数: 300")

    # the owner gives a smaller company a value by hand
    rep = page_for(people["sales"], locale="zh-CN")
    smallest = companies[0]
    rep.goto(f"/customers/{smallest.pk}/")
    rep.get_by_test_id("give-form").get_by_label("手工设置").select_option(label="规模: 大客户")
    rep.get_by_test_id("give").click()
    expect(rep.locator('[data-dimension="scale"]').get_by_test_id("why")).to_contain_text(
        "由 sales 于"
    )
    assert ManualAssignment.objects.get(customer=smallest).value == big
    stored = entries(CustomerScore.objects.get(pk=smallest.pk), "scale")
    assert stored == [{"value": "big", "rule": None, "by_hand": True, "fired": {}}]
    rep.screenshot(path=str(request.config.rootpath / "test-results" / "customer-dimensions.png"))
