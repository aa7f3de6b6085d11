"""The customer REST API: CRUD, errors, versions, search, filters, ordering, pagination."""

import pytest
from rest_framework.test import APIClient

from kehu.core.models import CustomFieldDefinition

from ..conftest import PASSWORD, make_customer

pytestmark = pytest.mark.django_db


def test_token_login_and_token_auth(people):
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "sales", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/customers/").status_code == 200
    bad = APIClient().post(
        "/api/auth/token/", {"username": "sales", "password": "x"}, format="json"
    )
    assert bad.status_code == 400
    assert APIClient().get("/api/customers/").status_code in (401, 403)


def test_create_read_update_delete(api, people):
    response = api["sales"].post(
        "/api/customers/",
        {
            "kind": "person",
            "name": "张三丰",
            "phones": ["138 0013 8000"],
            "emails": ["ZSF@Example.com"],
            "tags": ["VIP"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phones"] == ["+8613800138000"]
    assert body["emails"] == ["zsf@example.com"]
    assert body["owner"] == people["sales"].pk
    assert body["tags"] == ["VIP"] and body["version"] == 1
    assert body["custom_fields"] == {}
    url = f"/api/customers/{body['id']}/"

    response = api["sales"].patch(url, {"city": "杭州", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 2

    stale = api["sales"].patch(url, {"city": "宁波", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.json()["changed_fields"] == ["city"]

    missing = api["sales"].patch(url, {"city": "宁波"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()

    assert api["sales"].delete(url).status_code == 204
    assert api["sales"].get(url).status_code == 404
    history = api["admin"].get(f"/api/customers/{body['id']}/history/")
    assert history.status_code == 200
    assert [e["action"] for e in history.json()] == ["delete", "update", "create"]
    assert history.json()[1]["changes"]["city"] == ["", "杭州"]

    restored = api["admin"].post(f"/api/customers/{body['id']}/restore/")
    assert restored.status_code == 200
    assert api["sales"].get(url).status_code == 200


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "x", "phones": ["12"]}, "phones"),
        ({"name": "x", "phones": "not-a-list-but-a-bad-number"}, "phones"),
        ({"name": "x", "emails": ["@@"]}, "emails"),
        ({"name": ""}, "name"),
        ({"name": "x", "kind": "alien"}, "kind"),
        ({"name": "x", "credit_code": "91440300192203821X"}, "credit_code"),
        ({"name": "x", "id_number": "123"}, "id_number"),
        ({"name": "x", "birthday": "31/31/2020"}, "birthday"),
        ({"name": "x", "employees": -3}, "employees"),
        ({"name": "x", "annual_revenue": "lots"}, "annual_revenue"),
        ({"name": "x", "owner": 999999}, "owner"),
        ({"name": "x", "name_extra": 1, "phones": [{"a": 1}]}, "phones"),
        ({"name": ["list"]}, "name"),
        ({"name": "x", "custom_fields": "nope"}, "custom_fields"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_api, payload, field):
    response = admin_api.post("/api/customers/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_body_that_is_not_an_object_is_a_400(admin_api):
    response = admin_api.post("/api/customers/", [1, 2], format="json")
    assert response.status_code == 400
    response = admin_api.post("/api/customers/", "garbage", content_type="application/json")
    assert response.status_code == 400


def test_custom_field_errors_are_nested(admin_api):
    CustomFieldDefinition.objects.create(key="visits", label="来访", field_type="integer")
    response = admin_api.post(
        "/api/customers/", {"name": "x", "custom_fields": {"visits": "many"}}, format="json"
    )
    assert response.status_code == 400
    assert "visits" in response.json()["custom_fields"]


def test_chinese_error_messages(admin_api):
    response = admin_api.post(
        "/api/customers/",
        {"name": "x", "phones": ["12"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "不是有效的电话号码" in response.json()["phones"][0]
    response = admin_api.post(
        "/api/customers/",
        {"name": "x", "phones": ["12"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "is not a valid phone number" in response.json()["phones"][0]


def test_search_filters_ordering_and_pagination(admin_api, people):
    a = make_customer(owner=people["sales"], name="张三丰", phones=["13812345678"], city="北京")
    b = make_customer(
        owner=people["sales"], name="李四", phones=["13987654321"], city="上海", tags=["VIP"]
    )
    c = make_customer(
        owner=people["sales_west"],
        kind="organization",
        name="重庆华信科技有限公司",
        city="重庆",
        emails=["info@huaxin.cn"],
    )

    def ids(**params):
        response = admin_api.get("/api/customers/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(search="zsf") == [a.pk]
    assert ids(search="5678") == [a.pk]
    assert ids(search="chongqing") == [c.pk]
    assert ids(search="huaxin.cn") == [c.pk]
    assert ids(search="VIP") == [b.pk]
    assert ids(search="nobody") == []
    assert ids(city="上海") == [b.pk]
    assert ids(kind="organization") == [c.pk]
    assert ids(tag="VIP") == [b.pk]
    assert ids(owner=people["sales_west"].pk) == [c.pk]
    assert set(ids(team=people["sales"].team_id)) == {a.pk, b.pk}
    by_name = ids(ordering="name")
    assert by_name == [c.pk, b.pk, a.pk]  # chongqing, lisi, zhangsanfeng: pinyin order
    assert ids(ordering="-name") == [a.pk, b.pk, c.pk]
    page = admin_api.get("/api/customers/", {"page_size": 2, "ordering": "name"}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    page2 = admin_api.get("/api/customers/", {"page_size": 2, "ordering": "name", "page": 2})
    assert [r["id"] for r in page2.json()["results"]] == [a.pk]
    assert admin_api.get("/api/customers/", {"page": 99}).status_code == 404


def test_custom_field_filters(admin_api, people):
    CustomFieldDefinition.objects.create(
        key="level", label="级别", field_type="choice", choices=["金", "银"]
    )
    CustomFieldDefinition.objects.create(key="visits", label="来访", field_type="integer")
    CustomFieldDefinition.objects.create(
        key="likes", label="喜好", field_type="multichoice", choices=["茶", "酒"]
    )
    gold = make_customer(name="甲", custom_fields={"level": "金", "visits": 12, "likes": ["茶"]})
    silver = make_customer(
        name="乙", custom_fields={"level": "银", "visits": 3, "likes": ["酒", "茶"]}
    )

    def ids(**params):
        return sorted(r["id"] for r in admin_api.get("/api/customers/", params).json()["results"])

    assert ids(cf_level="金") == [gold.pk]
    assert ids(cf_visits_min="5") == [gold.pk]
    assert ids(cf_visits_max="5") == [silver.pk]
    assert ids(cf_likes="酒") == [silver.pk]
    assert ids(cf_likes="茶") == sorted([gold.pk, silver.pk])


def test_contacts_notes_tags_and_custom_field_definitions(api, people):
    customer = make_customer(owner=people["sales"], kind="organization", name="华信")
    response = api["sales"].post(
        "/api/contacts/",
        {"customer": customer.pk, "name": "王经理", "phones": ["13800000000"], "is_primary": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    contact = response.json()
    assert contact["phones"] == ["+8613800000000"]
    listed = api["sales"].get("/api/contacts/", {"customer": customer.pk}).json()
    assert [c["id"] for c in listed["results"]] == [contact["id"]]
    bad = api["sales"].post("/api/contacts/", {"customer": customer.pk, "name": ""}, format="json")
    assert bad.status_code == 400 and "name" in bad.json()
    hidden = make_customer(owner=people["sales_west"], name="隐")
    refused = api["sales"].post(
        "/api/contacts/", {"customer": hidden.pk, "name": "x"}, format="json"
    )
    assert refused.status_code == 400 and "customer" in refused.json()

    note = api["sales"].post(
        "/api/notes/", {"customer": customer.pk, "body": "回访"}, format="json"
    )
    assert note.status_code == 201 and note.json()["author"] == people["sales"].pk
    empty = api["sales"].post("/api/notes/", {"customer": customer.pk, "body": " "}, format="json")
    assert empty.status_code == 400

    assert api["sales"].post("/api/tags/", {"name": "新标签"}, format="json").status_code == 201
    assert api["analyst"].post("/api/tags/", {"name": "x"}, format="json").status_code == 403

    definition = {"key": "level", "label": "级别", "field_type": "choice", "choices": ["A", "B"]}
    assert api["sales"].post("/api/custom-fields/", definition, format="json").status_code == 403
    created = api["admin"].post("/api/custom-fields/", definition, format="json")
    assert created.status_code == 201
    dup = api["admin"].post("/api/custom-fields/", definition, format="json")
    assert dup.status_code == 400 and "key" in dup.json()
    no_choices = api["admin"].post(
        "/api/custom-fields/", {"key": "x", "label": "x", "field_type": "choice"}, format="json"
    )
    assert no_choices.status_code == 400 and "choices" in no_choices.json()


def test_bulk_tag_and_reassign_via_api(api, people):
    mine = make_customer(owner=people["sales"], name="甲")
    response = api["sales"].post(
        "/api/customers/bulk-tag/", {"ids": [mine.pk], "add": ["重点"]}, format="json"
    )
    assert response.json() == {"changed": 1}
    response = api["manager"].post(
        "/api/customers/bulk-reassign/",
        {"ids": [mine.pk], "owner": people["sales_peer"].pk},
        format="json",
    )
    assert response.json() == {"changed": 1}
    assert (
        api["sales"].post("/api/customers/bulk-tag/", {"ids": "x"}, format="json").status_code
        == 400
    )


def test_openapi_schema_and_docs(admin_api):
    schema = admin_api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/customers/" in paths and "/api/customers/{id}/" in paths
    docs = admin_api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_addresses_through_the_api(api, people):
    customer = make_customer(owner=people["sales"], name="多地址客户")
    created = api["sales"].post(
        "/api/addresses/",
        {
            "customer": customer.pk,
            "kind": "shipping",
            "province": "浙江省",
            "city": "杭州市",
            "street": "文三路 1 号",
            "phone": "0571 8888 6666",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phone"] == "+8657188886666" and body["version"] == 1
    empty = api["sales"].post(
        "/api/addresses/", {"customer": customer.pk, "kind": "home"}, format="json"
    )
    assert empty.status_code == 400 and "street" in empty.json()
    bad_kind = api["sales"].post(
        "/api/addresses/", {"customer": customer.pk, "kind": "moon", "city": "x"}, format="json"
    )
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()
    url = f"/api/addresses/{body['id']}/"
    assert (
        api["sales"].patch(url, {"city": "宁波市", "version": 1}, format="json").status_code == 200
    )
    assert (
        api["sales"].patch(url, {"city": "温州市", "version": 1}, format="json").status_code == 409
    )
    assert api["sales_west"].get(url).status_code == 404
    assert api["analyst"].patch(url, {"city": "x", "version": 2}, format="json").status_code == 403
    assert api["sales"].delete(url).status_code == 204
    history = api["sales"].get(f"/api/customers/{customer.pk}/history/").json()
    assert [e["action"] for e in history if e["object_type"] == "address"] == [
        "delete",
        "update",
        "create",
    ]
