"""The customer list's filters on segments, classes, stages, grades and
dimension values: the list page, its API and its export agree with the
stored scores, read here without the filters' code."""

import csv
import datetime
import io
import json
import re

import pytest
from django.http import QueryDict
from django.test import Client
from rest_framework.test import APIClient

from kehu.customers import filtersets
from kehu.customers.models import Customer
from kehu.segments import dimension_services, list_filters, runs
from kehu.segments.labels import CLASSES, SEGMENTS, STAGES
from kehu.segments.models import (
    AssignmentReason,
    CustomerScore,
    DimensionValue,
    RescoredCustomer,
    RunTrigger,
    SegmentSnapshot,
)

from ..conftest import PASSWORD, system_actor
from .test_engine import AS_OF
from .test_runs import history, ingest, order  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

PROVINCES = ["浙江省", "广东省", "北京市", "四川省", "浙江省", "新疆维吾尔自治区", ""]


@pytest.fixture
def scored(history):  # noqa: F811
    # Places and kinds, for the shipped region and customer-type rules.
    for n, person in enumerate(history):
        Customer.objects.filter(pk=person.pk).update(
            province=PROVINCES[n % len(PROVINCES)], kind="organization" if n % 3 == 0 else "person"
        )
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    return history


@pytest.fixture(params=["few", "walk", "by_ids"])
def plan(request, monkeypatch):
    """How the page finds a label's holders. few: from the snapshot; walk:
    along its order, probing every score; by_ids: their ids along its order
    (as when they shun its top)."""
    if request.param != "few":
        monkeypatch.setattr(list_filters, "SMALL_MATCH", -1)
        monkeypatch.setattr(filtersets, "plan_threshold", lambda: 1)
        cheaper = request.param == "walk"
        monkeypatch.setattr(filtersets, "_walk_is_cheaper", lambda *args: cheaper)
    return request.param


def holders_by_score() -> dict[tuple[str, str], set[int]]:
    """(filter, choice) -> customers, from the scores and their reasons."""
    found: dict[tuple[str, str], set[int]] = {}
    value_keys = {
        pk: (f"dim_{dimension}", key)
        for pk, dimension, key in DimensionValue.objects.values_list("pk", "dimension__key", "key")
    }
    reason_values = dict(AssignmentReason.objects.values_list("pk", "value_id"))
    for score in CustomerScore.objects.all():
        labels = [
            ("rfm_segment", score.rfm_segment),
            ("rfm_class", score.rfm_class),
            ("lifecycle_stage", score.lifecycle_stage),
        ]
        labels += [(f"grade_{key}", g["grade"]) for key, g in score.grades.items() if g["grade"]]
        labels += [value_keys[reason_values[r]] for r in score.dimensions]
        for name, label in labels:
            if label:
                found.setdefault((name, label), set()).add(score.customer_id)
    return found


def api_ids(client, params) -> set[int]:
    response = client.get("/api/customers/", {**params, "page_size": 500})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def every_choice() -> list[tuple[str, str]]:
    choices = [("rfm_segment", c) for c in SEGMENTS]
    choices += [("rfm_class", c) for c in CLASSES] + [("lifecycle_stage", c) for c in STAGES]
    choices += [("grade_value", label) for label in ("A", "B", "C", "D")]
    choices += [
        (f"dim_{dimension}", key)
        for dimension, key in DimensionValue.objects.values_list("dimension__key", "key")
    ]
    return choices


def test_each_label_lists_exactly_its_holders(scored, plan, admin_api):
    expected = holders_by_score()
    assert len(expected) >= 15  # the data give many labels something
    for name, label in every_choice():
        assert api_ids(admin_api, {name: label}) == expected.get((name, label), set()), (
            name,
            label,
        )


def test_several_labels_of_a_filter_are_any_of_and_filters_combine(scored, plan, admin_api):
    expected = holders_by_score()
    region = expected.get(("dim_region", "east"), set()) | expected.get(
        ("dim_region", "south"), set()
    )
    assert region
    assert api_ids(admin_api, {"dim_region": ["east", "south"]}) == region
    companies = expected[("dim_customer_type", "company")]
    both = api_ids(admin_api, {"dim_region": ["east", "south"], "dim_customer_type": "company"})
    assert both == region & companies
    # With a filter of the customer table and a search
    zhejiang = set(Customer.objects.filter(province="浙江省").values_list("pk", flat=True))
    assert api_ids(admin_api, {"province": "浙江省", "dim_region": "east"}) == zhejiang
    assert api_ids(admin_api, {"province": "浙江省", "dim_region": "south"}) == set()


def test_a_value_given_by_hand_after_the_run_is_found(scored, plan, admin_api, people):
    person = scored[4]  # five orders: "long-term" by rule
    target = DimensionValue.objects.get(dimension__key="relationship", key="partner")
    assert person.pk not in api_ids(admin_api, {"dim_relationship": "partner"})
    dimension_services.manual_assign(
        actor=system_actor(), customer=Customer.objects.get(pk=person.pk), value=target
    )
    assert RescoredCustomer.objects.filter(pk=person.pk).exists()
    assert person.pk in api_ids(admin_api, {"dim_relationship": "partner"})
    # and no longer under the value it replaced in this single-value dimension
    for key in DimensionValue.objects.filter(dimension__key="relationship").exclude(pk=target.pk):
        assert person.pk not in api_ids(admin_api, {"dim_relationship": key.key})


def test_a_customer_moved_by_new_orders_is_found_where_they_are_now(scored, plan, admin_api):
    lapsed = scored[13]  # last bought long ago
    before = CustomerScore.objects.get(pk=lapsed.pk)
    assert lapsed.pk in api_ids(admin_api, {"lifecycle_stage": before.lifecycle_stage})
    today = AS_OF + datetime.timedelta(days=1)
    ingest([order("back-again", lapsed, f"{today}T10:00:00+08:00", "80.00")])
    runs.incremental_run(actor=system_actor(), as_of=today)
    after = CustomerScore.objects.get(pk=lapsed.pk)
    assert after.lifecycle_stage != before.lifecycle_stage
    assert lapsed.pk in api_ids(admin_api, {"lifecycle_stage": after.lifecycle_stage})
    assert lapsed.pk not in api_ids(admin_api, {"lifecycle_stage": before.lifecycle_stage})
    # The next full run takes over from the re-scorings.
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=today, with_predictions=False
    )
    assert not RescoredCustomer.objects.exists()
    assert lapsed.pk in api_ids(admin_api, {"lifecycle_stage": after.lifecycle_stage})


def test_a_run_that_fails_writing_keeps_the_earlier_scores_and_snapshots(scored, monkeypatch):
    RescoredCustomer.objects.create(customer_id=scored[0].pk)
    before = dict(CustomerScore.objects.values_list("pk", "run_id"))
    snapshots = SegmentSnapshot.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(SegmentSnapshot.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        runs.segment_run(
            actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
        )
    assert dict(CustomerScore.objects.values_list("pk", "run_id")) == before
    assert SegmentSnapshot.objects.count() == snapshots
    assert RescoredCustomer.objects.filter(pk=scored[0].pk).exists()


def test_list_page_and_export_filter_alike_and_name_the_labels(scored, people):
    expected = holders_by_score()
    browser = Client()
    assert browser.login(username="admin", password=PASSWORD)
    (name, label), holders = max(expected.items(), key=lambda item: len(item[1]))
    page = browser.get("/customers/", {name: label, "page_size": 100}).content.decode()
    shown = {
        pk for pk in Customer.objects.values_list("pk", flat=True) if f"/customers/{pk}/" in page
    }
    assert shown == holders
    export = browser.get("/customers/export.csv", {name: label})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == len(holders)
    # The chip names the dimension and the value, not their keys.
    page = browser.get(
        "/customers/", {"dim_region": "east"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "地理位置: 华东" in page
    panel = browser.get("/customers/filters/", {"dim_region": "east"}).content.decode()
    assert 'name="dim_region"' in panel and 'name="rfm_segment"' in panel


def test_an_unknown_choice_is_refused_by_the_api_with_its_field(scored, admin_api):
    response = admin_api.get("/api/customers/", {"dim_region": "atlantis"})
    assert response.status_code == 400
    assert "dim_region" in json.dumps(response.json())


def test_filters_follow_the_standards(scored, admin_api):
    """A switched-off dimension offers no filter; a new one does."""
    from kehu.segments.models import Dimension

    Dimension.objects.filter(key="industry").update(active=False)
    assert "dim_industry" not in list_filters.score_filters()
    assert "dim_region" in list_filters.score_filters()


def test_sizes_and_standards_count_each_value_and_open_its_customers(scored, people, admin_api):
    expected = holders_by_score()
    browser = Client()
    assert browser.login(username="admin", password=PASSWORD)
    page = browser.get("/segments/")
    tables = {key: rows for key, _name, rows in page.context["size_tables"]}
    assert {"dimension:region", "dimension:service_needs", "grade:value"} <= set(tables)
    checked = 0
    for key, rows in tables.items():
        for row in rows:
            name, label = next(iter(QueryDict(row["list"]).items()))
            holders = expected.get((name, label), set())
            # A multi-valued dimension counts a customer once per value.
            assert row["customers"] == len(holders), (key, row)
            assert api_ids(admin_api, QueryDict(row["list"])) == holders
            checked += bool(holders)
    assert checked >= 10
    standards = browser.get("/segments/dimensions/").content.decode()
    east = len(expected[("dim_region", "east")])
    link = re.search(r'data-testid="count-region-east"><a href="([^"]+)"[^>]*>([\d,]+)<', standards)
    assert link.group(1) == "/customers/?dim_region=east" and link.group(2) == f"{east:,}"


def test_who_moved_between_values_of_a_dimension(scored, people):
    earlier = runs.full_runs().get()
    mover = scored[1]  # 广东省: south
    Customer.objects.filter(pk=mover.pk).update(province="浙江省")
    later = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    moves = {(f, t): n for f, t, n in runs.migration("dimension:region", earlier, later).rows()}
    south = sum(n for (f, _t), n in moves.items() if f == "south")
    assert moves[("south", "east")] == 1 and moves.get(("south", "south"), 0) == south - 1
    browser = Client()
    assert browser.login(username="admin", password=PASSWORD)
    page = browser.get("/segments/", {"scheme": "dimension:region"}, HTTP_ACCEPT_LANGUAGE="en")
    table = page.context["migration"]
    names = table["columns"]
    south_row = next(r for r in table["rows"] if r["label"] == "South China")
    assert south_row["cells"][names.index("East China")]["n"] == 1
    # A dimension with several values per customer shows sizes, not moves.
    page = browser.get("/segments/", {"scheme": "dimension:service_needs"})
    assert page.context.get("migration") is None and page.context["several_values"]
    api = APIClient()
    api.force_authenticate(people["admin"])
    moved = api.get(f"/api/segments/runs/{later.pk}/migration/", {"scheme": "dimension:region"})
    assert {"from": "south", "to": "east", "customers": 1} in moved.json()["moves"]
    several = api.get(
        f"/api/segments/runs/{later.pk}/migration/", {"scheme": "dimension:service_needs"}
    )
    assert several.status_code == 400 and "scheme" in several.json()


@pytest.mark.parametrize("ordering", ["-created_at", "name", "city", "-updated_at"])
def test_pages_come_in_order_whichever_way_they_are_found(scored, plan, admin_api, ordering):
    """Every page of a label's holders, in the page's order, against a sort of
    the holders done here."""
    expected = holders_by_score()
    (name, label), holders = max(expected.items(), key=lambda item: len(item[1]))
    assert len(holders) >= 5
    rows = Customer.objects.filter(pk__in=holders).values(
        "pk", "created_at", "updated_at", "name_sort", "city"
    )
    keys = {
        "-created_at": lambda r: (r["created_at"], r["pk"]),
        "name": lambda r: (r["name_sort"], r["pk"]),
        "city": lambda r: (r["city"], -r["updated_at"].timestamp(), -r["pk"]),
        "-updated_at": lambda r: (r["updated_at"], r["pk"]),
    }
    reverse = ordering.startswith("-")
    wanted = [r["pk"] for r in sorted(rows, key=keys[ordering], reverse=reverse)]
    got, page = [], 1
    while True:
        response = admin_api.get(
            "/api/customers/", {name: label, "ordering": ordering, "page_size": 2, "page": page}
        )
        assert response.status_code == 200, response.content
        body = response.json()
        got += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        page += 1
    assert got == wanted
    # The export lists them all, in the same order.
    browser = Client()
    assert browser.login(username="admin", password=PASSWORD)
    export = browser.get("/customers/export.csv", {name: label, "ordering": ordering})
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]] == wanted


def test_chinese_grades_and_a_dimension_newer_than_the_run_filter_exactly(scored, admin_api):
    from kehu.core.changelog import Actor
    from kehu.segments import services

    services.grade_scheme_save(
        actor=Actor.system(),
        data={
            "key": "tier",
            "name": "高中低价值",
            "method": "cutoffs",
            "weight_monetary": 3,
            "weight_frequency": 1,
            "grades": [
                {"label": '高 "A"', "value": 60},
                {"label": "中", "value": 30},
                {"label": "低", "value": 0},
            ],
        },
    )
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    expected = holders_by_score()
    found = 0
    for label in ('高 "A"', "中", "低"):
        holders = expected.get(("grade_tier", label), set())
        found += len(holders)
        assert api_ids(admin_api, {"grade_tier": label}) == holders, label
    assert found == CustomerScore.objects.exclude(grades__has_text='"grade":null').count()
    # A dimension made after the run: only values given since can match.
    dimension = dimension_services.dimension_save(
        actor=Actor.system(),
        data={"key": "vip", "name": "贵宾", "values": [{"key": "gold", "name": "金卡"}]},
    )
    person = Customer.objects.get(pk=scored[2].pk)
    assert api_ids(admin_api, {"dim_vip": "gold"}) == set()
    dimension_services.manual_assign(
        actor=Actor.system(), customer=person, value=dimension.values.get()
    )
    assert api_ids(admin_api, {"dim_vip": "gold"}) == {person.pk}


def test_a_value_given_by_hand_while_a_run_works_is_in_its_results(scored, admin_api, monkeypatch):
    from kehu.segments import dimensions

    person = Customer.objects.get(pk=scored[4].pk)  # five orders: "long-term" by rule
    partner = DimensionValue.objects.get(dimension__key="relationship", key="partner")
    assert person.pk not in api_ids(admin_api, {"dim_relationship": "partner"})
    real_apply = dimensions.apply

    def apply_then_someone_gives_a_value(*args, **kwargs):
        applied = real_apply(*args, **kwargs)  # the run has read the hand-given values
        dimension_services.manual_assign(actor=system_actor(), customer=person, value=partner)
        return applied

    monkeypatch.setattr(dimensions, "apply", apply_then_someone_gives_a_value)
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    score = CustomerScore.objects.get(pk=person.pk)
    reasons = AssignmentReason.objects.filter(pk__in=score.dimensions, value=partner)
    assert reasons.filter(by_hand=True).exists()
    assert person.pk in api_ids(admin_api, {"dim_relationship": "partner"})
    # Still recorded as re-scored: the run's snapshot does not show it.
    assert RescoredCustomer.objects.filter(pk=person.pk).exists()
    assert RescoredCustomer.objects.count() == 1
