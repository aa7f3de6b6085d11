"""Logging in through the form, and the list's live (htmx) search."""

import re

import pytest
from playwright.sync_api import expect

from ..conftest import PASSWORD, make_customer
from .conftest import CHROMIUM, MISSING_CHROMIUM

pytestmark = pytest.mark.browser


def test_debian_chromium_is_installed():
    # Fails (never skips) where the browser is missing, next to the setup errors.
    assert CHROMIUM.exists(), MISSING_CHROMIUM


def test_login_form_lands_on_customer_list(new_context, people):
    make_customer(owner=people["sales"], name="张三丰")
    make_customer(owner=people["sales_west"], name="西区客户")
    page = new_context().new_page()

    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/customers/$"))

    page.fill("input[name=username]", "sales")
    page.fill("input[name=password]", "not-the-password")
    page.click("main button[type=submit]")
    expect(page.locator("main .errorlist")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/"))

    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator("h1")).to_have_text("Customers")
    expect(page.get_by_test_id("current-user")).to_have_text("sales")
    rows = page.locator("#customer-table tbody tr")
    expect(rows).to_have_count(1)  # a sales rep sees only their own customers
    expect(rows.first).to_contain_text("张三丰")


def test_search_by_pinyin_initials_and_phone_digits(page_for, people):
    sales = people["sales"]
    zhang = make_customer(owner=sales, name="张三丰", phones=["13812345678"])
    make_customer(owner=sales, name="李四", phones=["13900001111"])
    make_customer(owner=sales, name="王五", phones=["13700002222"])
    page = page_for(sales)
    page.goto("/customers/")
    rows = page.locator("#customer-table tbody tr")
    expect(rows).to_have_count(3)
    # Set on the window: it survives only if the list is updated in place (htmx), not reloaded.
    page.evaluate("window.__kehuMarker = 'still here'")

    page.locator("#search").press_sequentially("zsf", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-customer-id", str(zhang.pk))
    expect(rows.first).to_contain_text("张三丰")
    expect(page.locator("#results")).not_to_contain_text("李四")
    expect(page.locator("#results")).not_to_contain_text("王五")
    expect(page).to_have_url(re.compile(r"[?&]search=zsf"))  # hx-push-url

    page.locator("#search").fill("")
    expect(rows).to_have_count(3)
    page.locator("#search").fill("5678")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-customer-id", str(zhang.pk))
    expect(rows.first).to_contain_text("138 1234 5678")
    expect(page.locator("#results")).not_to_contain_text("李四")

    page.locator("#search").fill("no such customer")
    expect(page.locator("#customer-table tbody")).to_contain_text("No customers match.")
    assert page.evaluate("window.__kehuMarker") == "still here"
