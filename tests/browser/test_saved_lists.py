"""A manager filters the customer list by a dimension value and a lifecycle
stage from the filter panel, saves it as a shared list, and a rep opens it."""

import re

import pytest
from django.http import QueryDict
from playwright.sync_api import expect

from kehu.core.changelog import Actor
from kehu.customers.models import Customer, SavedList
from kehu.segments import defaults, runs
from kehu.segments.models import CustomerScore, Dimension, DimensionValue, Rule, RunTrigger

from ..segments.test_engine import AS_OF
from ..segments.test_runs import history  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_filter_by_value_save_and_open_a_shared_list(page_for, people, history, request):  # noqa: F811
    if not Dimension.objects.filter(key="region").exists():
        # An earlier browser test's flush took the shipped standards away.
        defaults.ship(Dimension, DimensionValue, Rule)
    for person in history[:6]:
        Customer.objects.filter(pk=person.pk).update(province="浙江省", owner=people["sales"])
    runs.segment_run(
        actor=Actor.system(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    east = {p.pk for p in history[:6]}
    stage = CustomerScore.objects.get(pk=history[0].pk).lifecycle_stage
    expected = set(
        CustomerScore.objects.filter(pk__in=east, lifecycle_stage=stage).values_list(
            "pk", flat=True
        )
    )

    page = page_for(people["admin"], locale="zh-CN")
    page.goto("/customers/")
    page.locator("#filter-panel > summary").click()
    page.locator("select[name=dim_region]").select_option("east")
    page.locator("select[name=lifecycle_stage]").select_option(stage)
    expect(page).to_have_url(re.compile(r"dim_region=east"))
    expect(page).to_have_url(re.compile(rf"lifecycle_stage={stage}"))
    assert "kind=" not in page.url and "unassigned=" not in page.url  # only filters in use
    rows = page.locator("#customer-table tbody tr")
    expect(rows).to_have_count(len(expected))
    page.locator("#saved-lists > summary").click()
    page.locator("#saved-list-name").fill("华东客户")
    page.get_by_label("与所有人共享").check()
    page.screenshot(path=str(request.config.rootpath / "test-results" / "saved-list.png"))
    page.get_by_role("button", name="保存列表").click()
    expect(page.locator(".messages")).to_contain_text("已保存列表“华东客户”")
    expect(page.get_by_test_id("current-list")).to_have_text("华东客户")
    saved = SavedList.objects.get()
    assert saved.shared
    assert QueryDict(saved.query).dict() == {
        "dim_region": "east",
        "lifecycle_stage": stage,
        "ordering": "-updated_at",
    }

    rep_page = page_for(people["sales"], locale="zh-CN")
    rep_page.goto("/customers/")
    rep_page.locator("#saved-lists > summary").click()
    rep_page.get_by_role("link", name="华东客户").click()
    expect(rep_page.get_by_test_id("current-list")).to_have_text("华东客户")
    expect(rep_page.locator("#customer-table tbody tr")).to_have_count(len(expected))
    expect(rep_page.locator(".chips")).to_contain_text("地理位置: 华东")
