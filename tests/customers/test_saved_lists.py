"""Saved customer lists: saving the list page's filters, opening them again,
sharing, and refusing what the list page would not understand."""

import pytest
from django.http import QueryDict
from django.test import Client

from kehu.core.models import ChangeLogEntry
from kehu.customers.models import Customer, SavedList

from ..conftest import PASSWORD, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(people):
    rep = people["sales"]
    made = [
        make_customer(name="杭州甲", city="杭州市", status="active", owner=rep),
        make_customer(name="杭州乙", city="杭州市", status="lead", owner=rep),
        make_customer(name="上海丙", city="上海市", status="active", owner=people["sales_west"]),
    ]
    return made


def browser_for(user) -> Client:
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORD)
    return browser


def listed_ids(page: str) -> set[int]:
    return {
        pk for pk in Customer.objects.values_list("pk", flat=True) if f"/customers/{pk}/" in page
    }


def test_a_list_saved_from_the_page_opens_with_its_filters(people, customers):
    browser = browser_for(people["admin"])
    page = browser.get("/customers/", {"city": "杭州市", "status": "active", "page": "1"})
    assert 'id="save-list-form"' in page.content.decode()
    query = page.context["list_query"]
    assert QueryDict(query).dict() == {"city": "杭州市", "status": "active"}  # no paging
    response = browser.post(
        "/customers/lists/", {"name": "杭州活跃客户", "query": query, "shared": "on"}
    )
    assert response.status_code == 302
    saved = SavedList.objects.get()
    assert saved.owner == people["admin"] and saved.shared and saved.name == "杭州活跃客户"
    opened = browser.get(response["Location"]).content.decode()
    assert listed_ids(opened) == {customers[0].pk}
    assert 'data-testid="current-list">杭州活跃客户<' in opened
    assert ChangeLogEntry.objects.filter(object_id=str(saved.pk), action="create").exists()


def test_a_shared_list_shows_each_person_only_their_customers(people, customers):
    browser_for(people["admin"]).post(
        "/customers/lists/", {"name": "活跃", "query": "status=active", "shared": "on"}
    )
    saved = SavedList.objects.get()
    as_rep = browser_for(people["sales"])
    menu = as_rep.get("/customers/").content.decode()
    assert f"?{saved.query}" in menu and "活跃" in menu
    assert listed_ids(as_rep.get(f"/customers/?{saved.query}").content.decode()) == {
        customers[0].pk
    }
    # not theirs to delete
    assert as_rep.post(f"/customers/lists/{saved.pk}/delete/").status_code == 403
    assert SavedList.objects.filter(pk=saved.pk).exists()


def test_a_private_list_is_its_owners_only(people, customers, api):
    created = api["sales"].post(
        "/api/saved-lists/", {"name": "我的", "query": {"city": "杭州市"}}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["filters"] == {"city": ["杭州市"]} and body["owner"] == "sales"
    assert body["url"] == f"/customers/?{body['query']}"
    pk = body["id"]
    assert api["sales_peer"].get(f"/api/saved-lists/{pk}/").status_code == 404
    assert [row["id"] for row in api["sales_peer"].get("/api/saved-lists/").json()["results"]] == []
    assert api["sales_peer"].delete(f"/api/saved-lists/{pk}/").status_code == 404
    renamed = api["sales"].patch(f"/api/saved-lists/{pk}/", {"name": "杭州"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "杭州"
    assert renamed.json()["filters"] == {"city": ["杭州市"]}  # untouched
    shared = api["sales"].patch(f"/api/saved-lists/{pk}/", {"shared": True}, format="json")
    assert shared.json()["shared"] is True
    assert api["sales_peer"].get(f"/api/saved-lists/{pk}/").status_code == 200
    assert api["sales_peer"].patch(f"/api/saved-lists/{pk}/", {"name": "x"}).status_code == 403
    assert api["admin"].delete(f"/api/saved-lists/{pk}/").status_code == 204
    assert not SavedList.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "says"),
    [
        ({"query": "city=杭州市"}, "name", "name"),
        ({"name": "   ", "query": "city=杭州市"}, "name", "name"),
        ({"name": "x" * 61, "query": "city=杭州市"}, "name", "60"),
        ({"name": "a", "query": "colour=red"}, "query", "colour"),
        ({"name": "a", "query": "status=nonsense"}, "query", "status"),
        ({"name": "a", "query": "created_after=yesterday"}, "query", "created"),
        ({"name": "a", "query": "city=杭州市&ordering=-shoe_size"}, "query", "ordering"),
        ({"name": "a", "query": "ordering=name&page=3"}, "query", "filter"),
        ({"name": "a", "query": ""}, "query", "filter"),
        ({"name": "a", "query": ["city", "杭州市"]}, "query", "query string"),
        ({"name": "a", "query": {"city": {"nested": 1}}}, "query", "city"),
        ({"name": "a", "query": "city=杭州市", "shared": "maybe"}, "shared", "true"),
        ({"name": "a", "query": "city=杭州市", "shared": 3}, "shared", "true"),
    ],
)
def test_bad_lists_are_refused_naming_the_field(people, api, payload, field, says):
    response = api["sales"].post(
        "/api/saved-lists/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    messages = " ".join(str(m) for m in errors.get(field, errors.get("errors", {}).get(field, [])))
    assert says.lower() in messages.lower(), errors
    assert not SavedList.objects.exists()


def test_a_name_is_unique_per_owner(people, api):
    first = api["sales"].post("/api/saved-lists/", {"name": "A", "query": "city=X"}, format="json")
    assert first.status_code == 201
    again = api["sales"].post("/api/saved-lists/", {"name": "A", "query": "city=Y"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    other = api["sales_peer"].post(
        "/api/saved-lists/", {"name": "A", "query": "city=Y"}, format="json"
    )
    assert other.status_code == 201
    assert SavedList.objects.count() == 2


def test_the_page_reports_a_bad_list_and_saves_nothing(people, customers):
    browser = browser_for(people["sales"])
    response = browser.post(
        "/customers/lists/",
        {"name": "", "query": "city=杭州市"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert not SavedList.objects.exists()
    assert "Give the list a name." in [str(m) for m in response.context["messages"]]
    # back on the list it came from
    back = response.redirect_chain[-1][0]
    assert back.startswith("/customers/?") and QueryDict(back.split("?")[1])["city"] == "杭州市"


def test_junk_bodies_never_fail_the_server(people, api):
    for body in [
        None,
        1,
        "x",
        [],
        {"name": None, "query": None},
        {"name": 5, "query": 7},
        {"name": "ok", "query": {"": ""}},
        {"name": "ok", "query": "%%%"},
        {"name": ["a"]},
    ]:
        response = api["sales"].post("/api/saved-lists/", body, format="json")
        assert response.status_code == 400, (body, response.status_code)
