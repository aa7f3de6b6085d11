"""Every role × own / same-team / other-team record, on every page and API endpoint.

Expectations are written out as a table here, independently of the code's
role table, so a change in either shows up as a failure.
"""

import pytest
from django.test import Client

from ..conftest import api_client_for, make_customer

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "sales", "support", "analyst", "readonly"]
RELATIONS = ["own", "team", "other"]

# (can read, can write) per role and relation of the record to the user.
EXPECTED = {
    "admin": {"own": (1, 1), "team": (1, 1), "other": (1, 1)},
    "manager": {"own": (1, 1), "team": (1, 1), "other": (0, 0)},
    "sales": {"own": (1, 1), "team": (0, 0), "other": (0, 0)},
    "support": {"own": (1, 0), "team": (1, 0), "other": (1, 0)},
    "analyst": {"own": (1, 0), "team": (1, 0), "other": (1, 0)},
    "readonly": {"own": (1, 0), "team": (1, 0), "other": (0, 0)},
}


def record_for(people, role, relation):
    owner = {
        "own": people[role],
        "team": people["sales_peer"],  # East, like every team member above
        "other": people["sales_west"],
    }[relation]
    return make_customer(owner=owner, name="矩阵测试", phones=["13812340000"], city="测试城")


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(people, role, relation):
    can_read, can_write = EXPECTED[role][relation]
    customer = record_for(people, role, relation)
    api = api_client_for(people[role])
    url = f"/api/customers/{customer.pk}/"

    assert api.get(url).status_code == (200 if can_read else 404)
    listed = [r["id"] for r in api.get("/api/customers/").json()["results"]]
    assert (customer.pk in listed) == bool(can_read)
    searched = [r["id"] for r in api.get("/api/customers/", {"search": "1234"}).json()["results"]]
    assert (customer.pk in searched) == bool(can_read)
    filtered = api.get("/api/customers/", {"city": "测试城"}).json()["results"]
    assert (customer.pk in [r["id"] for r in filtered]) == bool(can_read)
    assert api.get(f"{url}history/").status_code == (200 if can_read else 404)
    contacts = api.get("/api/contacts/", {"customer": customer.pk})
    assert contacts.status_code == 200

    patch = api.patch(url, {"city": "新城", "version": 1}, format="json")
    assert patch.status_code == (200 if can_write else 403 if can_read else 404)
    contact = api.post("/api/contacts/", {"customer": customer.pk, "name": "联系人"}, format="json")
    assert contact.status_code == (201 if can_write else 403 if can_read else 400)
    address = api.post(
        "/api/addresses/",
        {"customer": customer.pk, "kind": "office", "city": "某市"},
        format="json",
    )
    assert address.status_code == (201 if can_write else 403 if can_read else 400)
    tagged = api.post(
        "/api/customers/bulk-tag/", {"ids": [customer.pk], "add": ["矩阵"]}, format="json"
    )
    expected_changed = 1 if can_write else 0
    assert tagged.status_code in (200, 403)
    if tagged.status_code == 200:
        assert tagged.json()["changed"] == expected_changed
    else:
        assert not can_write
    version = 2 if can_write else 1
    deleted = api.delete(url)
    assert deleted.status_code == (204 if can_write else 403 if can_read else 404)
    customer.refresh_from_db()
    assert customer.is_deleted == bool(can_write)
    assert customer.version >= version


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(people, role, relation):
    can_read, can_write = EXPECTED[role][relation]
    customer = record_for(people, role, relation)
    client = Client()
    client.force_login(people[role])
    base = f"/customers/{customer.pk}/"

    assert client.get(base).status_code == (200 if can_read else 404)
    listing = client.get("/customers/").content.decode()
    assert (f'data-customer-id="{customer.pk}"' in listing) == bool(can_read)
    found = client.get("/customers/", {"search": "jzcs"}).content.decode()  # 矩阵测试 initials
    assert (f'data-customer-id="{customer.pk}"' in found) == bool(can_read)
    exported = client.get("/customers/export.csv", {"search": "1234"})
    assert exported.status_code == 200
    rows = b"".join(exported.streaming_content).decode("utf-8-sig")
    assert (str(customer.pk) in [line.split(",")[0] for line in rows.splitlines()]) == bool(
        can_read
    )
    edit_status = 200 if can_write else 403 if can_read else 404
    assert client.get(f"{base}edit/").status_code == edit_status
    assert client.get(f"{base}contacts/new/").status_code == edit_status
    assert client.get(f"{base}addresses/new/").status_code == edit_status
    note = client.post(f"{base}notes/", {"body": "看过"})
    can_note = can_write or (can_read and role == "support")
    assert note.status_code == (302 if can_note else 403 if can_read else 404)
    deleted = client.post(f"{base}delete/")
    assert deleted.status_code == (302 if can_write else 403 if can_read else 404)
    customer.refresh_from_db()
    assert customer.is_deleted == bool(can_write)


def test_recycle_bin_respects_scope(people):
    mine = make_customer(owner=people["sales"], name="东")
    theirs = make_customer(owner=people["sales_west"], name="西")
    admin = api_client_for(people["admin"])
    admin.delete(f"/api/customers/{mine.pk}/")
    admin.delete(f"/api/customers/{theirs.pk}/")
    manager = api_client_for(people["manager"])
    ids = [r["id"] for r in manager.get("/api/customers/recycle-bin/").json()["results"]]
    assert ids == [mine.pk]
    assert manager.post(f"/api/customers/{theirs.pk}/restore/").status_code == 404
    sales = api_client_for(people["sales"])
    assert sales.get("/api/customers/recycle-bin/").status_code == 403
    assert sales.post(f"/api/customers/{mine.pk}/restore/").status_code == 403
