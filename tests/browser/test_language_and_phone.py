"""The header's language selector, and the list and detail pages on a phone-sized screen."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from kehu.customers import services

from ..conftest import make_customer, system_actor
from .conftest import results_dir

pytestmark = pytest.mark.browser

ZH_HANS_MO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
PHONE = {"width": 390, "height": 844}
OVERFLOW_TOLERANCE = 2  # px
# The innermost elements sticking out past the right edge: what to fix when the page is too wide.
OVERFLOWING_JS = """(limit) => {
  const out = [...document.querySelectorAll("body *")].filter(
    (e) => e.getBoundingClientRect().right > limit && !e.closest(".table-wrap *"));
  return out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 8).map((e) => {
    const r = e.getBoundingClientRect();
    const cls = typeof e.className === "string" ? e.className.trim() : "";
    const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (cls ? "." + cls.split(/\\s+/).join(".") : "");
    return `${name} (right ${Math.round(r.right)}px): ${(e.textContent || "").trim().slice(0, 40)}`;
  });
}"""


def test_language_selector_switches_chinese_and_english(page_for, people):
    customer = make_customer(owner=people["sales"], name="张三丰")
    page = page_for(people["sales"])  # the browser asks for English
    html = page.locator("html")
    nav_link = page.locator("header nav a[href='/customers/']")
    selector = page.locator("#language-form select[name=language]")

    page.goto("/customers/?search=zsf")
    expect(html).to_have_attribute("lang", "en")
    expect(nav_link).to_have_text("Customers")
    expect(selector).to_have_value("en")

    selector.select_option(label="简体中文")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(selector).to_have_value("zh-hans")
    expect(page).to_have_url(re.compile(r"/customers/\?search=zsf$"))  # back where we were
    expect(page.locator(f'tr[data-customer-id="{customer.pk}"]')).to_be_visible()
    assert ZH_HANS_MO.exists(), "compile the catalogues: make messages"
    expect(nav_link).to_have_text("客户")
    expect(page.locator("main h1")).to_have_text("客户")

    page.goto(f"/customers/{customer.pk}/")  # the choice sticks (language cookie)
    expect(html).to_have_attribute("lang", "zh-hans")

    selector.select_option(label="English")
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(nav_link).to_have_text("Customers")
    expect(page.locator("#history h2")).to_have_text("History")


def phone_data(people):
    sales = people["sales"]
    names = ["张三丰", "欧阳娜娜", "李四", "王五", "赵六"]
    for i, name in enumerate(names):
        make_customer(
            owner=sales,
            name=name,
            company_name="杭州西湖数字科技有限公司",
            city="杭州市",
            tags=["重点客户", f"第{i}批"],
        )
    customer = make_customer(
        owner=sales,
        name="上海浦东新区国际贸易发展股份有限公司驻杭州办事处",
        kind="organization",
        phones=["13812345678", "02161234567"],
        emails=["procurement.department.eastchina@shanghai-pudong-trade.example.com.cn"],
        province="浙江省",
        city="杭州市",
        district="西湖区",
        street="文三路 478 号华星时代广场 A 座 12 层 1201 室",
        industry="批发和零售业",
        main_business="进出口贸易、供应链管理、跨境电商服务、仓储物流",
        tags=["重点客户", "华东区", "年度大客户"],
    )
    actor = system_actor()
    services.contact_create(
        actor=actor,
        customer=customer,
        data={"name": "王经理", "title": "采购总监", "phones": "13900001111", "is_primary": True},
    )
    services.note_create(
        actor=actor,
        customer=customer,
        body="客户要求报价单发到邮箱，参考链接："
        "https://example.com/quotes/2026/very-long-path-without-any-spaces-0123456789abcdef",
    )
    services.customer_update(
        actor=actor, customer=customer, data={"city": "宁波市"}, version=customer.version
    )
    return customer


def assert_fits_phone(page, label: str, request):
    path = results_dir(request.config) / f"phone-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"] + OVERFLOW_TOLERANCE:
        culprits = page.evaluate(OVERFLOWING_JS, PHONE["width"] + OVERFLOW_TOLERANCE)
        pytest.fail(
            f"{label}: the page is {width}px wide on a {PHONE['width']}px phone (see {path}); "
            "sticking out: " + "; ".join(culprits)
        )
    return path


def test_list_and_detail_fit_a_phone(new_context, people, request):
    customer = phone_data(people)
    context = new_context(
        people["sales"],
        locale="zh-CN",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()

    page.goto("/customers/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#customer-table tbody tr")).to_have_count(6)
    assert_fits_phone(page, "customer-list", request)
    # The columns kept on a phone fit the table's scroll wrapper without scrolling.
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 2"), "the table scrolls sideways"
    search_box = page.locator("#search").bounding_box()
    assert search_box["x"] >= 0 and search_box["x"] + search_box["width"] <= PHONE["width"]

    page.locator(f'tr[data-customer-id="{customer.pk}"] a').first.tap()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator("#notes")).to_contain_text("very-long-path")
    expect(page.locator("#history .changes").first).to_contain_text("杭州市 → 宁波市")
    assert_fits_phone(page, "customer-detail", request)
    for selector in ("main h1", "#notes textarea", "#history"):
        box = page.locator(selector).first.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"] + OVERFLOW_TOLERANCE, selector

    page.locator("main .toolbar a.btn").first.tap()  # Edit
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/edit/$"))
    expect(page.locator("[name=city]")).to_have_value("宁波市")
    assert_fits_phone(page, "customer-form", request)
