"""A segment run over Kehu's own orders: what counts as a purchase, on which
local day, for how much; stored scores, snapshots, migrations between runs and
the command."""

import datetime
import decimal
import json
import re
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.core.models import ChangeLogEntry
from kehu.sales import services as sales
from kehu.sales.models import Order
from kehu.segments import runs
from kehu.segments.engine import EngineConfig
from kehu.segments.models import (
    AssignmentReason,
    CustomerScore,
    Dimension,
    DimensionValue,
    RunTrigger,
    SegmentSnapshot,
)
from kehu.segments.queries import previous_run
from kehu.segments.settings_store import engine_config

from ..conftest import make_customer, system_actor
from .test_engine import AS_OF, reference

pytestmark = pytest.mark.django_db


def ingest(orders):
    result = sales.order_batch_ingest(actor=system_actor(), orders=orders)
    assert result.rejected == [], result.rejected
    return result


def order(ref, customer, when, price, status="paid", quantity=1):
    return {
        "external_id": ref,
        "customer": customer.pk,
        "ordered_at": when,
        "currency": "CNY",
        "status": status,
        "lines": [{"sku": "TEA-1", "quantity": quantity, "unit_price": price}],
    }


@pytest.fixture
def history():
    sales.product_create(
        actor=system_actor(), data={"sku": "TEA-1", "name": "龙井", "list_price": "88.00"}
    )
    people = [make_customer(name=f"客户{n}") for n in range(14)]
    orders = []
    for n, person in enumerate(people):
        for k in range(n % 5 + 1):
            day = AS_OF - datetime.timedelta(days=7 * n + 30 * k)
            orders.append(order(f"o{n}-{k}", person, f"{day}T10:00:00+08:00", f"{50 + n}.00"))
    # 00:30 in Shanghai is the day before in UTC: it counts on the local day.
    orders.append(order("early", people[0], f"{AS_OF}T00:30:00+08:00", "10.00"))
    orders.append(order("cancelled", people[1], f"{AS_OF}T09:00:00+08:00", "999.00", "cancelled"))
    tomorrow = AS_OF + datetime.timedelta(days=1)
    orders.append(order("after", people[2], f"{tomorrow}T09:00:00+08:00", "5.00"))
    ingest(orders)
    refunded = Order.objects.get(external_id="o3-0")
    sales.refund_create(actor=system_actor(), order=refunded, data={"amount": "20.00"})
    gone = make_customer(name="已删除")
    ingest([order("gone", gone, f"{AS_OF}T09:00:00+08:00", "70.00")])
    from kehu.customers.services import customer_delete

    customer_delete(actor=system_actor(), customer=gone)
    return people


def entries(score, key: str) -> list[dict]:
    """One dimension's values of a score, in order, from its reasons."""
    from kehu.segments.models import AssignmentReason

    reasons = AssignmentReason.objects.filter(pk__in=score.dimensions, value__dimension__key=key)
    return [
        {"value": r.value.key, "rule": r.rule_id, "by_hand": r.by_hand, "fired": r.fired}
        for r in sorted(reasons.select_related("value"), key=lambda r: score.dimensions.index(r.pk))
    ]


def expected_from_orders() -> pd.DataFrame:
    """The RFM the documentation defines, from the order rows, independently."""
    rows = pd.DataFrame(
        list(
            Order.objects.exclude(status="cancelled")
            .filter(customer__deleted_at__isnull=True)
            .values("customer_id", "ordered_at", "amount", "refunded_amount", "base_rate")
        )
    )
    local = pd.to_datetime(rows["ordered_at"], utc=True).dt.tz_convert("Asia/Shanghai")
    net = (rows["amount"] - rows["refunded_amount"]) * rows["base_rate"]
    tx = pd.DataFrame(
        {
            "customer": rows["customer_id"],
            "day": local.dt.date,
            "amount": [int(value * 10_000) for value in net],
        }
    )
    return reference(tx, EngineConfig())


def test_run_scores_every_live_customer_from_their_orders(history):
    run = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    expected = expected_from_orders()
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}
    assert set(scores) == {p.pk for p in history}  # the deleted customer has none
    assert run.customers == len(history) and run.stats["scored"] == len(expected)
    for pk, row in expected.iterrows():
        score = scores[pk]
        got = (score.rfm_recency_days, score.rfm_frequency, score.rfm_monetary * 10_000)
        assert got == (row["R"], row["F"], row["M"]), pk
        assert (score.r_score, score.f_score, score.m_score) == tuple(
            row[["r_score", "f_score", "m_score"]]
        )
        assert score.rfm_segment == row["rfm_segment"] and score.rfm_class == row["rfm_class"]
        assert score.lifecycle_stage == expected.attrs["stages"][pk]
    first = scores[history[0].pk]
    assert first.rfm_recency_days == 0 and first.last_purchase == AS_OF  # the 00:30 order
    assert scores[history[1].pk].rfm_frequency == 2  # the cancelled order does not count
    assert scores[history[3].pk].rfm_monetary == 53 * 4 - 20  # less the refund
    sizes = run.stats["sizes"]["rfm_segment"]
    assert sum(sizes.values()) == len(expected)
    snapshots = SegmentSnapshot.objects.filter(run=run)
    active = Dimension.objects.filter(active=True).values_list("key", flat=True)
    assert {s.scheme for s in snapshots} == {
        *runs.SCHEMES,
        "grade:value",
        *(f"dimension:{key}" for key in active),
    }
    value_keys = dict(DimensionValue.objects.values_list("pk", "key"))
    reason_values = dict(AssignmentReason.objects.values_list("pk", "value_id"))
    held_any = False
    for snapshot in snapshots:
        members = runs.load_snapshot(snapshot)
        if snapshot.scheme.startswith("dimension:"):
            mine = set(
                DimensionValue.objects.filter(
                    dimension__key=snapshot.scheme.removeprefix("dimension:")
                ).values_list("pk", flat=True)
            )
            listed = set()
            for pk, values, reasons in CustomerScore.objects.values_list(
                "customer_id", "dimension_values", "dimensions"
            ):
                held = {int(v) for v in values.strip(",").split(",") if v}
                # The values listed are the values of the reasons listed.
                assert held == {reason_values[r] for r in reasons}, pk
                listed |= {(pk, value_keys[v]) for v in held & mine}
            assert set(members.rows()) == listed
            held_any = held_any or bool(listed)
            continue
        if snapshot.scheme.startswith("grade:"):
            key = snapshot.scheme.removeprefix("grade:")
            stored = {
                pk: grades[key]["grade"]
                for pk, grades in CustomerScore.objects.values_list("customer_id", "grades")
                if grades[key]["grade"]
            }
        else:
            stored = dict(
                CustomerScore.objects.exclude(**{snapshot.scheme: ""}).values_list(
                    "customer_id", snapshot.scheme
                )
            )
        assert dict(members.rows()) == stored
    assert held_any  # the shipped rules gave values


def test_migration_between_runs_counts_who_moved(history):
    earlier = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    later_day = AS_OF + datetime.timedelta(days=200)
    ingest([order("back", history[13], f"{later_day}T10:00:00+08:00", "80.00")])
    later = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=later_day, with_predictions=False
    )
    moves = runs.migration("lifecycle_stage", earlier, later)
    before = runs.load_snapshot(earlier.snapshots.get(scheme="lifecycle_stage"))
    after = runs.load_snapshot(later.snapshots.get(scheme="lifecycle_stage"))
    pairs = before.join(after, on="customer", suffix="_after")
    expected = pairs.group_by("segment", "segment_after").len()
    assert {(f, t): n for f, t, n in moves.rows() if f and t} == {
        (f, t): n for f, t, n in expected.rows()
    }
    assert moves["customers"].sum() == len(history)
    was = dict(before.rows())[history[13].pk]
    assert was in ("silent", "churned")  # 91+ days without buying
    assert CustomerScore.objects.get(customer=history[13]).lifecycle_stage == "active"
    assert (was, "active") in {(f, t) for f, t, _ in moves.rows()}


def test_command_runs_and_lists_history(history):
    out = StringIO()
    call_command(
        "segment", "run", "--as-of", AS_OF.isoformat(), "--no-predict", "--json", stdout=out
    )
    summary = json.loads(out.getvalue())
    assert summary["status"] == "done" and summary["customers"] == len(history)
    dimensions = {f"dimension:{k}" for k in Dimension.objects.values_list("key", flat=True)}
    assert set(summary["sizes"]) == {
        "rfm_segment",
        "rfm_class",
        "lifecycle_stage",
        "grade:value",
        *dimensions,
    }
    listed = StringIO()
    call_command("segment", "history", "--json", stdout=listed)
    assert [r["id"] for r in json.loads(listed.getvalue())] == [summary["id"]]
    skipped = StringIO()
    call_command("segment", "run", "--if-none", "--json", stdout=skipped)
    assert json.loads(skipped.getvalue()) == {"skipped": "a run has already finished"}


def test_customer_page_shows_the_figures_and_why(history, people, client):
    person = history[4]  # five orders, the last 28 days before as-of
    client.force_login(people["admin"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page_before = client.get(f"/customers/{person.pk}/").content.decode()
    assert "have not been classified yet" in page_before
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    score = CustomerScore.objects.get(customer=person)
    page = client.get(f"/customers/{person.pk}/").content.decode()
    assert f"R{score.r_score} F{score.f_score} M{score.m_score}" in page
    assert f"last purchase {score.rfm_recency_days} days ago · 5 purchases" in page
    assert "scores by fifths of 14 customers" in page
    stage_names = {"active": "Active", "silent": "Silent", "churned": "Churned", "new": "New"}
    assert f">{stage_names[score.lifecycle_stage]}</span>" in page
    assert "last purchase 28 days ago, within 90" in page


def test_api_scores_follow_visibility_and_runs_are_for_analysts(history, people, api):
    ours = make_customer(owner=people["sales"], name="销售的客户")
    ingest([order("mine", ours, f"{AS_OF}T10:00:00+08:00", "30.00")])
    first = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    everything = api["admin"].get("/api/segments/scores/", {"page_size": 100}).json()
    assert everything["count"] == len(history) + 1
    mine = api["sales"].get("/api/segments/scores/").json()["results"]
    assert [row["customer"] for row in mine] == [ours.pk]  # a rep sees their own only
    lost = api["admin"].get("/api/segments/scores/", {"rfm_segment": "lost"}).json()
    expected = CustomerScore.objects.filter(rfm_segment="lost").count()
    assert lost["count"] == expected and all(r["rfm_segment"] == "lost" for r in lost["results"])
    bad = api["admin"].get("/api/segments/scores/", {"rfm_segment": "vip"})
    assert bad.status_code == 400 and "rfm_segment" in bad.json()
    assert api["sales"].get("/api/segments/runs/").status_code == 403
    listed = api["analyst"].get("/api/segments/runs/").json()["results"]
    assert listed[0]["id"] == first.pk and listed[0]["stats"]["sizes"]["rfm_segment"]
    refused = api["analyst"].get(f"/api/segments/runs/{first.pk}/migration/?scheme=lifecycle_stage")
    assert refused.status_code == 400  # nothing to compare with yet
    second = runs.segment_run(
        actor=system_actor(),
        trigger=RunTrigger.COMMAND,
        as_of=AS_OF + datetime.timedelta(days=60),
        with_predictions=False,
    )
    moved = api["manager"].get(
        f"/api/segments/runs/{second.pk}/migration/", {"scheme": "lifecycle_stage"}
    )
    body = moved.json()
    assert moved.status_code == 200 and (body["earlier"], body["later"]) == (first.pk, second.pk)
    expected = runs.migration("lifecycle_stage", first, second)
    assert [(m["from"], m["to"], m["customers"]) for m in body["moves"]] == expected.rows()
    wrong = api["manager"].get(f"/api/segments/runs/{second.pk}/migration/", {"scheme": "x"})
    assert wrong.status_code == 400 and "scheme" in wrong.json()


def test_overview_page_and_settings(history, people, client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(people["sales"])
    assert client.get("/segments/").status_code == 403
    client.force_login(people["analyst"])
    assert "have not been classified yet" in client.get("/segments/").content.decode()
    first = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    runs.segment_run(
        actor=system_actor(),
        trigger=RunTrigger.COMMAND,
        as_of=AS_OF + datetime.timedelta(days=100),
        with_predictions=False,
    )
    page = client.get("/segments/?scheme=lifecycle_stage").content.decode()
    scored = first.stats["scored"]
    assert f"{len(history)} customers" in page and 'data-testid="migration"' in page
    for cell in first.stats["rf_matrix"]:
        assert f'data-rf="{cell["r"]}{cell["f"]}"' in page
    # an analyst reads the settings but may not change them
    assert client.post("/segments/", {"window_days": "30"}).status_code == 403
    client.force_login(people["admin"])
    refused = client.post("/segments/", {"active_days": "200", "churn_days": "100"})
    assert "Churned must come after active" in refused.content.decode()
    assert client.post("/segments/", {"window_days": "abc"}).status_code == 200
    saved = client.post(
        "/segments/",
        {"window_days": "365", "class_center": "median", "active_days": "60", "churn_days": "150"},
    )
    assert saved.status_code == 302
    config = engine_config()
    assert (config.window_days, config.class_center, config.active_days) == (365, "median", 60)
    assert ChangeLogEntry.objects.filter(changes__window_days=[0, 365]).exists()
    assert scored > 0


def test_a_run_without_any_order_classifies_nobody_and_says_why():
    customer = make_customer(name="还没买过")
    run = runs.segment_run(actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF)
    assert run.status == "done" and run.customers == 1 and run.stats["scored"] == 0
    score = CustomerScore.objects.get(customer=customer)
    assert score.r_score is None and score.lifecycle_stage == ""
    assert "at least 10" in run.stats["prediction_error"]
    assert sum(run.stats["sizes"]["rfm_segment"].values()) == 0


def test_churn_risk_page_ranks_value_at_risk_and_explains_it(history, people, client):
    from kehu.service import services as service
    from kehu.service.models import TicketCause

    ours = make_customer(owner=people["sales"], name="销售的客户")
    ingest(
        [order(f"rep-{k}", ours, f"{AS_OF - datetime.timedelta(days=300 + 20 * k)}T10:00:00+08:00",
               "500.00") for k in range(4)]
    )  # fmt: skip
    cause = TicketCause.objects.get(key="delivery")
    service.ticket_create(
        actor=system_actor(),
        customer=ours,
        data={"type": "complaint", "subject": "迟到", "cause": "delivery"},
    )
    later = AS_OF + datetime.timedelta(days=200)
    run = runs.segment_run(actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=later)
    assert run.stats["bgnbd"], run.stats["prediction_error"]
    scores = list(CustomerScore.objects.filter(value_at_risk__gt=0))
    assert scores
    for score in scores:  # value if still active, times the chance they are gone
        p_alive = decimal.Decimal(score.p_alive)
        expected = score.clv / p_alive * (1 - p_alive)
        # clv is stored rounded to the cent; the ratio stretches that rounding
        rounding = decimal.Decimal("0.005") * (1 - p_alive) / p_alive + decimal.Decimal("0.005")
        assert abs(score.value_at_risk - expected) <= rounding
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(people["admin"])
    page = client.get("/segments/churn/").content.decode()
    shown = [int(pk) for pk in re.findall(r'<tr data-customer="(\d+)">', page)]
    ranked = sorted(scores, key=lambda s: (-s.value_at_risk, s.customer_id))
    assert shown == [s.customer_id for s in ranked][: len(shown)] and shown
    assert "1 open complaints (" + cause.display_label + ")" in page
    assert re.search(r"no purchase for \d+ days; bought every \d+ days", page)
    churned = CustomerScore.objects.filter(lifecycle_stage="churned")
    assert f'<td>{cause.display_label}</td><td class="num">1</td>' in page
    no_complaint = churned.count() - 1
    assert f'no complaint</span></td><td class="num">{no_complaint}</td>' in page
    client.force_login(people["sales"])
    mine = client.get("/segments/churn/").content.decode()
    assert set(re.findall(r'<tr data-customer="(\d+)">', mine)) <= {str(ours.pk)}


def test_grade_schemes_through_the_api_drive_the_next_run(history, api, people):
    shipped = api["analyst"].get("/api/segments/grade-schemes/").json()
    assert [s["key"] for s in shipped] == ["value"]
    body = {
        "key": "tier",
        "name": "高中低价值",
        "method": "cutoffs",
        "weight_monetary": 3,
        "weight_frequency": 1,
        "grades": [
            {"label": "高", "value": 60},
            {"label": "中", "value": 30},
            {"label": "低", "value": 0},
        ],
    }
    assert (
        api["analyst"].post("/api/segments/grade-schemes/", body, format="json").status_code == 403
    )
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    bad = [
        ({**body, "grades": [{"label": "A", "value": 10}, {"label": "B", "value": 50}]}, "grades"),
        ({**body, "method": "quantiles"}, "grades"),  # shares 60+30+0 do not add up
        ({**body, "key": "有 空格"}, "key"),
        ({**body, "weight_monetary": -1}, "weight_monetary"),
        ({**body, "weight_monetary": 0, "weight_frequency": 0}, "weights"),
        ({**body, "grades": [{"label": "A\\\\B", "value": 0}]}, "grades"),
        ({**body, "key": "value"}, "key"),
    ]
    for payload, field in bad:
        response = api["admin"].post(
            "/api/segments/grade-schemes/", payload, format="json", **english
        )
        assert response.status_code == 400 and field in response.json(), (payload, response.json())
    made = api["admin"].post("/api/segments/grade-schemes/", body, format="json")
    assert made.status_code == 201, made.json()
    run = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    sizes = run.stats["sizes"]["grade:tier"]
    assert set(sizes) == {"高", "中", "低"} and sum(sizes.values()) == run.stats["scored"]
    for score in CustomerScore.objects.exclude(r_score=None):
        tier = score.grades["tier"]
        expected = "高" if tier["score"] >= 60 else "中" if tier["score"] >= 30 else "低"
        assert tier["grade"] == expected
    value = sorted(s.grades["value"]["grade"] for s in CustomerScore.objects.exclude(r_score=None))
    n = len(value)  # A / B / C / D by 20 / 30 / 30 / 20 percent, ties together
    assert value.count("A") >= round(0.2 * n) - 2 and "D" in value
    page = api["admin"].get(f"/api/segments/runs/{run.pk}/migration/", {"scheme": "grade:tier"})
    assert page.status_code == 400  # nothing earlier to compare with
    scheme_id = made.json()["id"]
    assert api["admin"].delete(f"/api/segments/grade-schemes/{scheme_id}/").status_code == 204
    assert ChangeLogEntry.objects.filter(action="delete", object_id=scheme_id).exists()


def test_recommend_next_on_the_customer_page(people, client):
    for sku, name in [("TEA-1", "龙井"), ("CUP-2", "茶杯"), ("POT-3", "茶壶"), ("BAG-4", "茶包")]:
        sales.product_create(
            actor=system_actor(), data={"sku": sku, "name": name, "list_price": "10.00"}
        )
    buyers = [make_customer(name=f"买家{n}") for n in range(6)]
    lonely = make_customer(name="只买茶叶")

    def bought(ref, customer, skus):
        lines = [{"sku": sku, "quantity": 1} for sku in skus]
        result = sales.order_batch_ingest(
            actor=system_actor(),
            orders=[{"external_id": ref, "customer": customer.pk,
                     "ordered_at": "2026-03-01T10:00:00+08:00", "lines": lines}],
        )  # fmt: skip
        assert result.created == 1

    for n, buyer in enumerate(buyers):  # tea goes with cups, sometimes with pots
        bought(f"b{n}", buyer, ["TEA-1", "CUP-2"] + (["POT-3"] if n < 2 else []))
    bought("bag", buyers[5], ["BAG-4"])
    bought("lonely", lonely, ["TEA-1"])
    out = StringIO()
    call_command("segment", "recommend", "--json", stdout=out)
    assert json.loads(out.getvalue())["pairs"] > 0
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(people["admin"])
    page = client.get(f"/customers/{lonely.pk}/").content.decode()
    shown = re.findall(r'<li data-product="(\d+)"><strong>([^<]+)</strong>', page)
    # cups (6 of 6 tea buyers) before pots (2) before the bag (1); never tea again
    assert [name for _pk, name in shown] == ["茶杯", "茶壶", "茶包"]
    assert "often bought with 龙井" in page


def test_campaign_export_of_a_segment(history, people, client):
    import csv
    import io

    ours = make_customer(owner=people["sales"], name="=HYPERLINK(1)", emails=["a@example.com"])
    ingest([order("mine", ours, f"{AS_OF}T10:00:00+08:00", "30.00")])
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(people["admin"])
    response = client.get("/segments/export.csv", {"lifecycle_stage": "silent"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = CustomerScore.objects.filter(lifecycle_stage="silent")
    assert sorted(int(r["ID"]) for r in rows) == sorted(s.customer_id for s in expected)
    assert rows and all(r["Lifecycle stage"] == "Silent" for r in rows)
    assert {"Phones", "Emails", "RFM", "Grades", "Lifetime value"} <= set(rows[0])
    bad = client.get("/segments/export.csv", {"lifecycle_stage": "gone"})
    assert bad.status_code == 400 and "lifecycle_stage" in bad.content.decode()
    client.force_login(people["sales"])  # a rep exports their own customers only
    text = b"".join(client.get("/segments/export.csv").streaming_content).decode("utf-8-sig")
    mine = list(csv.DictReader(io.StringIO(text)))
    assert [(r["ID"], r["Name"]) for r in mine] == [(str(ours.pk), "'=HYPERLINK(1)")]


def test_new_orders_rescore_their_customers_against_the_last_full_run(history):
    assert runs.incremental_run(actor=system_actor(), as_of=AS_OF) is None  # no full run yet
    full = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    assert runs.incremental_run(actor=system_actor(), as_of=AS_OF) is None  # nothing new
    before = {s.customer_id: s for s in CustomerScore.objects.all()}
    quiet, busy = history[12], history[13]
    ingest([order(f"new-{k}", busy, f"{AS_OF}T0{k}:00:00+08:00", "900.00") for k in range(1, 4)])
    run = runs.incremental_run(actor=system_actor(), as_of=AS_OF)
    assert run.trigger == "orders" and run.customers == 1 and run.stats["orders"] == 3
    after = {s.customer_id: s for s in CustomerScore.objects.all()}
    assert after[quiet.pk].run_id == full.pk  # untouched customers keep their figures
    assert (after[quiet.pk].r_score, after[quiet.pk].rfm_segment) == (
        before[quiet.pk].r_score,
        before[quiet.pk].rfm_segment,
    )
    new = after[busy.pk]
    assert new.run_id == run.pk and new.rfm_recency_days == 0 and new.lifecycle_stage == "active"
    assert new.rfm_frequency == before[busy.pk].rfm_frequency + 3
    # scored like the full run's customers with these values would have been
    cuts = full.stats["points"]["cuts"]
    expected_r = 1 + sum(new.rfm_recency_days <= t for t in cuts["r"] if t is not None)
    expected_f = 1 + sum(new.rfm_frequency >= t for t in cuts["f"] if t is not None)
    assert (new.r_score, new.f_score) == (expected_r, expected_f)
    # the next incremental run starts after these orders; the migration API
    # keeps comparing full runs
    assert runs.incremental_run(actor=system_actor(), as_of=AS_OF) is None
    later = runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    assert previous_run(later) == full


def test_rules_and_manual_assignments_set_dimensions_with_why(history, people):
    from kehu.customers.models import Tag
    from kehu.segments.models import Dimension, DimensionValue, ManualAssignment, Rule

    behaviour = Dimension.objects.create(key="behaviour", name="购买行为")
    repeat, first, prospect = (
        DimensionValue.objects.create(dimension=behaviour, key=k, name=k)
        for k in ("repeat", "first", "prospect")
    )
    interest = Dimension.objects.create(key="interest", name="兴趣", multiple=True)
    vip, east = (
        DimensionValue.objects.create(dimension=interest, key=k, name=k) for k in ("vip", "east")
    )
    rule = lambda value, condition, priority=100, **extra: Rule.objects.create(  # noqa: E731
        name=value.key, value=value, conditions=condition, priority=priority, **extra
    )
    rule(repeat, {"field": "order_count", "operator": "gte", "value": 2}, 10)
    rule(first, {"field": "order_count", "operator": "eq", "value": 1}, 20)
    rule(prospect, {"op": "or", "conditions": [
        {"field": "order_count", "operator": "empty"},
        {"field": "order_count", "operator": "eq", "value": 0},
    ]}, 30)  # fmt: skip
    rule(vip, {"field": "tags", "operator": "has", "value": "VIP"})
    rule(east, {"field": "province", "operator": "eq", "value": "浙江省"}, overrides_manual=True)
    newcomer = make_customer(name="新来的", province="浙江省")
    tagged = history[5]
    tagged.tags.add(Tag.objects.create(name="VIP"))
    ManualAssignment.objects.create(
        customer=history[6], value=prospect, assigned_at=timezone.now()
    )  # by hand: wins over the repeat rule
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}

    def given(pk, key):
        return entries(scores[pk], key)

    for pk, score in scores.items():
        orders = score.rfm_frequency or 0
        expected = "repeat" if orders >= 2 else "first" if orders == 1 else "prospect"
        if pk == history[6].pk:
            expected = "prospect"
        assert [entry["value"] for entry in given(pk, "behaviour")] == [expected], pk
    hand = given(history[6].pk, "behaviour")
    assert hand == [{"value": "prospect", "rule": None, "by_hand": True, "fired": {}}]
    why = given(history[4].pk, "behaviour")[0]
    # the order count is on the score row itself: "why" keeps only the rule
    assert why["rule"] and why["fired"] == {}
    assert [e["value"] for e in given(tagged.pk, "interest")] == ["vip"]
    assert given(tagged.pk, "interest")[0]["fired"] == {"tags": ["VIP"]}
    assert [e["value"] for e in given(newcomer.pk, "interest")] == ["east"]
    assert given(newcomer.pk, "interest")[0]["fired"] == {"province": "浙江省"}
    assert given(newcomer.pk, "behaviour")[0]["value"] == "prospect"
    assert "interest" not in scores[history[0].pk].dimensions


def test_churned_customers_by_cancellation_reason(history, people, client):
    def cancelled(ref, customer, days_before, reason):
        day = AS_OF - datetime.timedelta(days=days_before)
        return order(ref, customer, f"{day}T10:00:00+08:00", "30.00", "cancelled") | {
            "cancel_reason": reason
        }

    later = AS_OF + datetime.timedelta(days=200)
    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=later, with_predictions=False
    )
    churned = list(
        CustomerScore.objects.filter(lifecycle_stage="churned").values_list("pk", flat=True)
    )
    assert len(churned) >= 2
    first, second = (c for c in history if c.pk in churned[:2])
    ingest(
        [
            cancelled("c1", first, 400, "缺货"),
            cancelled("c2", first, 300, " 价格太高 "),  # the latest one counts, trimmed
            cancelled("c3", second, 500, "价格太高"),
            cancelled("c4", second, 200, ""),  # no reason given: the one before counts
        ]
    )
    bad = sales.order_batch_ingest(
        actor=system_actor(),
        orders=[
            order("p1", first, f"{AS_OF}T10:00:00+08:00", "1.00") | {"cancel_reason": "缺货"},
            cancelled("p2", first, 1, "长" * 101),
            cancelled("p3", first, 1, 5),
        ],
    )
    assert [sorted(r["errors"]) for r in bad.rejected] == [["cancel_reason"]] * 3
    assert Order.objects.get(external_id="c2").cancel_reason == "价格太高"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(people["admin"])
    page = client.get("/segments/churn/").content.decode()
    section = page[page.index('id="churn-reason"') :]
    assert '<td>价格太高</td><td class="num">2</td>' in section
    others = len(churned) - 2
    assert f'no cancellation with a reason</span></td><td class="num">{others}</td>' in section
    assert "缺货" not in section


def test_a_run_leaves_the_scores_primary_key_and_index_in_place(history):
    from django.db import connection

    runs.segment_run(
        actor=system_actor(), trigger=RunTrigger.COMMAND, as_of=AS_OF, with_predictions=False
    )
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, CustomerScore._meta.db_table)
    assert any(c["primary_key"] and c["columns"] == ["customer_id"] for c in found.values())
    assert found["score_value_at_risk"]["index"]
    assert found["score_value_at_risk"]["columns"] == ["value_at_risk", "customer_id"]
