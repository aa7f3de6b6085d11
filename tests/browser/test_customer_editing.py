"""Creating, editing, concurrent edits, deleting and restoring customers in the browser."""

import re

import pytest
from playwright.sync_api import expect

from kehu.core.models import ChangeLogEntry
from kehu.customers.models import Customer

from ..conftest import make_customer

pytestmark = pytest.mark.browser


def prop(page, label: str):
    """The <dd> of a profile property, found by its <dt> label."""
    return page.locator("dl.props dt", has_text=re.compile(f"^{label}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def save(page):
    page.locator("form.card").get_by_role("button", name="Save", exact=True).click()


def test_create_with_invalid_phone_shows_inline_error_then_saves(page_for, people):
    page = page_for(people["sales"])
    page.goto("/customers/")
    page.get_by_role("link", name="New customer").click()
    expect(page).to_have_url(re.compile(r"/customers/new/$"))

    page.fill("[name=name]", "林小雨")
    page.fill("[name=phones]", "12345")
    page.fill("[name=city]", "杭州市")
    save(page)

    phone_field = page.locator('.field[data-field="phones"]')
    expect(phone_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(phone_field.locator(".errorlist")).to_contain_text("is not a valid phone number")
    expect(page.locator(".field.has-error")).to_have_count(1)  # only the phone field
    expect(page.locator("[name=name]")).to_have_value("林小雨")  # input is kept
    expect(page.locator("[name=phones]")).to_have_value("12345")
    assert Customer.all_objects.count() == 0
    assert not ChangeLogEntry.objects.exists()

    page.fill("[name=phones]", "13800138000")
    save(page)
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("created")
    expect(page.locator("h1")).to_contain_text("林小雨")
    expect(prop(page, "Phones")).to_have_text("138 0013 8000")
    customer = Customer.objects.get()
    assert page.url.endswith(f"/customers/{customer.pk}/")
    assert customer.name == "林小雨" and customer.city == "杭州市"
    assert customer.phones == ["+8613800138000"] and customer.owner == people["sales"]


def test_edit_city_shows_on_detail_and_in_history(page_for, people):
    customer = make_customer(owner=people["sales"], name="周杰", province="浙江省", city="杭州市")
    page = page_for(people["sales"])
    page.goto(f"/customers/{customer.pk}/")
    expect(prop(page, "Address")).to_have_text("浙江省 杭州市")
    page.locator("main .toolbar").get_by_role("link", name="Edit", exact=True).click()
    expect(page.locator("[name=city]")).to_have_value("杭州市")

    page.fill("[name=city]", "宁波市")
    save(page)
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Customer saved.")
    expect(prop(page, "Address")).to_have_text("浙江省 宁波市")
    newest = page.locator("#history ul.history > li").first
    expect(newest).to_contain_text("Updated")
    expect(newest.locator(".changes")).to_have_text("City: 杭州市 → 宁波市")
    expect(newest).to_contain_text("sales")
    customer.refresh_from_db()
    assert customer.city == "宁波市" and customer.version == 2


def test_concurrent_edit_gets_conflict_and_keeps_first_save(page_for, people):
    customer = make_customer(owner=people["sales"], name="吴敏", city="杭州市")
    first = page_for(people["sales"])
    second = page_for(people["manager"])  # same team: may edit the same record
    for page in (first, second):
        page.goto(f"/customers/{customer.pk}/edit/")
        expect(page.locator("[name=city]")).to_have_value("杭州市")

    first.fill("[name=city]", "苏州市")
    save(first)
    expect(first).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(prop(first, "Address")).to_have_text("苏州市")

    second.fill("[name=city]", "南京市")
    with second.expect_response(lambda r: r.request.method == "POST") as response:
        save(second)
    assert response.value.status == 409
    conflict = second.get_by_test_id("conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text(re.compile("city", re.IGNORECASE))  # changed field
    expect(second.locator("[name=city]")).to_have_value("南京市")  # their input is kept
    expect(second).to_have_url(re.compile(rf"/customers/{customer.pk}/edit/$"))

    customer.refresh_from_db()
    assert customer.city == "苏州市"
    assert customer.version == 2


def test_delete_with_confirm_then_restore_from_recycle_bin(page_for, people):
    customer = make_customer(owner=people["sales"], name="郑爽")
    other = make_customer(owner=people["sales"], name="冯伟")
    page = page_for(people["sales"])
    page.goto(f"/customers/{customer.pk}/")
    messages = []

    def dismiss(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Delete", exact=True).click()
    assert messages == ["Move this customer to the recycle bin?"]
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    customer.refresh_from_db()
    assert customer.deleted_at is None  # cancelling the dialog deletes nothing

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator(".messages")).to_contain_text("moved to the recycle bin")
    rows = page.locator("#customer-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-customer-id", str(other.pk))
    assert Customer.all_objects.get(pk=customer.pk).deleted_at is not None
    expect(page.locator("header nav")).not_to_contain_text("Recycle bin")  # not for sales reps

    manager = page_for(people["manager"])
    manager.goto("/customers/")
    manager.locator("header nav").get_by_role("link", name="Recycle bin").click()
    row = manager.locator(f'tr[data-customer-id="{customer.pk}"]')
    expect(row).to_contain_text("郑爽")
    expect(row).to_contain_text("sales")  # deleted by
    row.get_by_role("button", name="Restore").click()
    expect(manager).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(manager.locator(".messages")).to_contain_text("is restored")
    manager.goto("/customers/recycle-bin/")
    expect(manager.locator("tbody")).to_contain_text("The recycle bin is empty.")

    page.reload()
    expect(rows).to_have_count(2)
    expect(page.locator(f'tr[data-customer-id="{customer.pk}"]')).to_contain_text("郑爽")
    assert Customer.objects.filter(pk=customer.pk).exists()
