"""Pages: list, search, detail, forms with inline errors, conflicts, recycle bin, admin pages."""

import re

import pytest
from django.test import Client

from kehu.core.models import CustomFieldDefinition
from kehu.customers.models import Customer

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def form_data(**overrides):
    data = {
        "kind": "person",
        "name": "张三丰",
        "status": "lead",
        "phones": "13800138000",
        "country": "CN",
        "revenue_currency": "CNY",
    }
    data.update(overrides)
    return data


def test_login_page_and_redirect(people):
    client = Client()
    assert client.get("/customers/").status_code == 302
    response = client.post("/login/", {"username": "sales", "password": "Correct-Horse-9"})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200


def test_list_search_and_htmx_partial(people):
    make_customer(owner=people["sales"], name="张三丰", phones=["13812345678"])
    make_customer(owner=people["sales"], name="李四")
    client = client_for(people["sales"])
    page = client.get("/customers/", {"search": "zsf"}).content.decode()
    assert "张三丰" in page and "李四" not in page and "<html" in page
    partial = client.get("/customers/", {"search": "5678"}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "张三丰" in text and "<html" not in text
    sorted_page = client.get("/customers/", {"ordering": "-name"}).content.decode()
    assert sorted_page.index("张三丰") < sorted_page.index("李四")


def test_create_with_invalid_phone_shows_error_and_saves_nothing(people):
    client = client_for(people["sales"])
    response = client.post("/customers/new/", form_data(phones="12345"))
    assert response.status_code == 200
    assert "is not a valid phone number" in response.content.decode()
    assert Customer.all_objects.count() == 0
    response = client.post("/customers/new/", form_data())
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.phones == ["+8613800138000"] and customer.owner == people["sales"]


def test_detail_shows_profile_contacts_notes_history(people):
    CustomFieldDefinition.objects.create(key="vip", label="VIP level", field_type="text")
    customer = make_customer(
        owner=people["sales"],
        kind="organization",
        name="华信科技有限公司",
        custom_fields={"vip": "gold"},
        tags=["重点"],
    )
    client = client_for(people["sales"])
    client.post(
        f"/customers/{customer.pk}/contacts/new/", {"name": "王经理", "phones": "13800000001"}
    )
    client.post(f"/customers/{customer.pk}/notes/", {"body": "下周回访"})
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    for text in [
        "华信科技有限公司",
        "王经理",
        "138 0000 0001",
        "下周回访",
        "VIP level",
        "gold",
        "重点",
    ]:
        assert text in page, text
    assert page.count("Created") >= 1


def test_edit_conflict_is_shown_not_overwritten(people):
    customer = make_customer(owner=people["sales"], name="赵六")
    client = client_for(people["sales"])
    owner = people["sales"].pk
    first = client.post(
        f"/customers/{customer.pk}/edit/",
        form_data(name="赵六", city="北京", version=1, owner=owner),
    )
    assert first.status_code == 302
    second = client.post(
        f"/customers/{customer.pk}/edit/", form_data(name="赵七", version=1, owner=owner)
    )
    assert second.status_code == 409
    text = second.content.decode()
    assert "changed by someone else" in text and "city" in text
    customer.refresh_from_db()
    assert customer.name == "赵六" and customer.city == "北京"
    # The form now carries the current version: saving again applies the input.
    version = re.search(r'name="version" value="(\d+)"', text).group(1)
    third = client.post(
        f"/customers/{customer.pk}/edit/", form_data(name="赵七", version=version, owner=owner)
    )
    assert third.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "赵七"


def test_delete_and_restore_from_recycle_bin(people):
    customer = make_customer(owner=people["sales"], name="孙八")
    sales = client_for(people["sales"])
    assert sales.post(f"/customers/{customer.pk}/delete/").status_code == 302
    assert sales.get(f"/customers/{customer.pk}/").status_code == 404
    assert sales.get("/customers/recycle-bin/").status_code == 403
    manager = client_for(people["manager"])
    assert "孙八" in manager.get("/customers/recycle-bin/").content.decode()
    assert manager.post(f"/customers/{customer.pk}/restore/").status_code == 302
    assert sales.get(f"/customers/{customer.pk}/").status_code == 200


def test_bulk_tag_and_reassign_from_list(people):
    a = make_customer(owner=people["sales"], name="甲")
    b = make_customer(owner=people["sales"], name="乙")
    manager = client_for(people["manager"])
    manager.post("/customers/bulk/", {"ids": [a.pk, b.pk], "action": "tag", "tag": "重点"})
    assert set(Customer.objects.filter(tags__name="重点").values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }
    manager.post(
        "/customers/bulk/", {"ids": [a.pk], "action": "reassign", "owner": people["sales_peer"].pk}
    )
    a.refresh_from_db()
    assert a.owner == people["sales_peer"]
    sales = client_for(people["sales"])
    response = sales.post(
        "/customers/bulk/", {"ids": [b.pk], "action": "reassign", "owner": people["sales_peer"].pk}
    )
    assert response.status_code == 403


def test_custom_field_admin_and_form(people):
    admin = client_for(people["admin"])
    response = admin.post(
        "/customers/fields/new/",
        {
            "key": "level",
            "label": "Level",
            "field_type": "choice",
            "choices": "Gold\nSilver",
            "applies_to": "both",
            "required": "on",
            "position": 1,
        },
    )
    assert response.status_code == 302
    bad = admin.post(
        "/customers/fields/new/",
        {"key": "Bad Key", "label": "x", "field_type": "text", "applies_to": "both"},
    )
    assert "lower-case" in bad.content.decode()
    form = admin.get("/customers/new/").content.decode()
    assert 'name="cf_level"' in form and "Gold" in form
    missing = admin.post("/customers/new/", form_data())
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    admin.post("/customers/new/", form_data(cf_level="Gold"))
    assert Customer.objects.get().custom_fields == {"level": "Gold"}
    assert client_for(people["sales"]).get("/customers/fields/").status_code == 403


def test_user_and_team_admin(people):
    admin = client_for(people["admin"])
    response = admin.post(
        "/account/users/new/",
        {
            "username": "newrep",
            "role": "sales",
            "team": people["sales"].team_id,
            "password1": "Some-Long-Pass-77",
            "password2": "Some-Long-Pass-77",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert admin.post("/account/teams/new/", {"name": "South"}).status_code == 302
    assert "newrep" in admin.get("/account/users/").content.decode()
    assert client_for(people["manager"]).get("/account/users/").status_code == 403


def test_profile_language_switch(people):
    client = client_for(people["sales"])
    client.post("/account/profile/", {"language": "zh-hans", "time_zone": "Asia/Shanghai"})
    people["sales"].refresh_from_db()
    assert people["sales"].language == "zh-hans"
    bad = client.post("/account/profile/", {"language": "en", "time_zone": "Mars/Base"})
    assert "Unknown time zone" in bad.content.decode() or "时区" in bad.content.decode()


def test_csv_export_follows_filters_and_escapes_formulas(people):
    make_customer(owner=people["sales"], name="=HYPERLINK(1)", city="北京", phones=["+16502530000"])
    make_customer(owner=people["sales"], name="李四", city="上海")
    client = client_for(people["sales"])
    response = client.get("/customers/export.csv", {"city": "北京"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.splitlines()
    assert len(lines) == 2  # header + one row
    assert "'=HYPERLINK(1)" in lines[1] and "'+1 650" in lines[1]
    assert "李四" not in text


def test_addresses_on_the_customer_page(people):
    customer = make_customer(owner=people["sales"], name="多地址")
    client = client_for(people["sales"])
    bad = client.post(f"/customers/{customer.pk}/addresses/new/", {"kind": "home"})
    assert bad.status_code == 200 and "at least a city or a street" in bad.content.decode()
    ok = client.post(
        f"/customers/{customer.pk}/addresses/new/",
        {"kind": "shipping", "city": "深圳市", "street": "科技园 8 号", "recipient": "王收"},
    )
    assert ok.status_code == 302
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "科技园 8 号" in page and "王收" in page and "Shipping" in page


def test_tag_admin_renames_and_refuses_deleting_a_used_tag(people):
    customer = make_customer(owner=people["sales"], name="标签客户", tags=["老客户"])
    tag = customer.tags.get()
    admin = client_for(people["admin"])
    assert "老客户" in admin.get("/customers/tags/").content.decode()
    bad = admin.post(f"/customers/tags/{tag.pk}/", {"name": "VIP客户", "color": "red"})
    assert "#rrggbb" in bad.content.decode()
    assert (
        admin.post(
            f"/customers/tags/{tag.pk}/", {"name": "VIP客户", "color": "#ff0000"}
        ).status_code
        == 302
    )
    assert list(customer.tags.values_list("name", flat=True)) == ["VIP客户"]
    refused = admin.post(f"/customers/tags/{tag.pk}/", {"action": "delete"})
    assert "remove it from them first" in refused.content.decode()
    from kehu.customers.models import Tag

    unused = Tag.objects.create(name="空标签")
    assert admin.post(f"/customers/tags/{unused.pk}/", {"action": "delete"}).status_code == 302
    assert not Tag.objects.filter(pk=unused.pk).exists()
    assert client_for(people["sales"]).get("/customers/tags/").status_code == 403
