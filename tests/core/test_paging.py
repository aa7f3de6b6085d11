"""Capped counts: exact below the cap, and every page reachable above it."""

import pytest
from django.core.paginator import EmptyPage

from kehu.core.paging import CappedPaginator
from kehu.customers.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags(db):
    Tag.objects.bulk_create(Tag(name=f"t{i:03d}") for i in range(57))
    return Tag.objects.order_by("name")


def test_exact_below_the_cap(tags):
    paginator = CappedPaginator(tags, 10, count_cap=100)
    assert paginator.count == 57 and paginator.count_is_exact and paginator.num_pages == 6
    assert [t.name for t in paginator.page(6)] == [f"t{i:03d}" for i in range(50, 57)]


def test_above_the_cap_every_page_is_reachable_and_the_end_is_known(tags):
    paginator = CappedPaginator(tags, 10, count_cap=20)
    assert not paginator.count_is_exact and paginator.display_count == "20"
    names = []
    number = 1
    while True:
        page = paginator.page(number)
        names += [t.name for t in page]
        if not page.has_next():
            break
        number = page.next_page_number()
    assert names == [f"t{i:03d}" for i in range(57)]
    assert number == 6
    with pytest.raises(EmptyPage):
        paginator.page(7)
    assert CappedPaginator(tags, 10, count_cap=None).count == 57


def test_api_pages_past_the_cap(admin_api, monkeypatch):
    from kehu.core import paging

    from ..conftest import make_customer

    monkeypatch.setitem(paging.CappedPaginator.__init__.__kwdefaults__, "count_cap", 5)
    for i in range(12):
        make_customer(name=f"客户{i:02d}")
    first = admin_api.get("/api/customers/", {"page_size": 5, "ordering": "name"}).json()
    assert first["count_is_exact"] is False and first["next"]
    third = admin_api.get("/api/customers/", {"page_size": 5, "ordering": "name", "page": 3})
    assert third.status_code == 200
    assert len(third.json()["results"]) == 2 and third.json()["next"] is None
