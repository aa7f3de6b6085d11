"""Interactions, follow-up tasks, the inbox, and who may do what."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.models import ChangeLogEntry
from kehu.engagement.models import FollowUpTask, Interaction

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def test_log_interaction_with_follow_up_through_the_api(api, people):
    customer = make_customer(owner=people["sales"], name="客户甲")
    due = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    response = api["sales"].post(
        "/api/interactions/",
        {
            "customer": customer.pk,
            "channel": "phone",
            "direction": "outbound",
            "subject": "报价",
            "outcome": "有意向",
            "follow_up": {"title": "发送报价单", "due_at": due, "priority": "high"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    interaction = Interaction.objects.get()
    task = FollowUpTask.objects.get()
    assert task.interaction == interaction and task.assignee == people["sales"]
    assert task.priority == "high" and task.status == "open"
    history = api["sales"].get(f"/api/customers/{customer.pk}/history/").json()
    assert {"interaction", "followuptask"} <= {e["object_type"] for e in history}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "phone", "direction": "sideways"}, "direction"),
        ({"channel": "phone", "subject": "x" * 201}, "subject"),
        ({"channel": "phone", "occurred_at": "tomorrowish"}, "occurred_at"),
        ({"channel": "phone", "contact": 999999}, "contact"),
        ({"subject": "no channel"}, "channel"),
        ({"channel": "phone", "follow_up": {"title": "", "due_at": "2026-01-01"}}, "follow_up"),
        ({"channel": "phone", "follow_up": "soon"}, "follow_up"),
    ],
)
def test_bad_interactions_are_refused_and_nothing_saved(api, people, body, field):
    customer = make_customer(owner=people["sales"])
    response = api["sales"].post(
        "/api/interactions/", {"customer": customer.pk, **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Interaction.objects.count() == 0 and FollowUpTask.objects.count() == 0


def test_permissions_for_interactions_and_tasks(api, people):
    own = make_customer(owner=people["sales"])
    due = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    body = {"customer": own.pk, "channel": "wechat"}
    assert api["sales_west"].post("/api/interactions/", body, format="json").status_code == 404
    assert api["analyst"].post("/api/interactions/", body, format="json").status_code == 403
    assert api["support"].post("/api/interactions/", body, format="json").status_code == 201
    assert api["sales"].get("/api/interactions/").json()["count"] == 1
    assert api["sales_west"].get("/api/interactions/").json()["count"] == 0
    # A task for someone who cannot see the customer is refused.
    refused = api["sales"].post(
        "/api/tasks/",
        {"customer": own.pk, "title": "x", "due_at": due, "assignee": people["sales_west"].pk},
        format="json",
    )
    assert refused.status_code == 400 and "assignee" in refused.json()


def test_task_lifecycle_inbox_and_manager_view(api, people):
    customer = make_customer(owner=people["sales"])
    now = timezone.now()
    tasks = {}
    for name, delta in [("late", -30), ("today", 1), ("later", 60 * 24 * 3)]:
        due = now + datetime.timedelta(minutes=delta)
        if name == "today":
            # Still today in the user's time zone, whatever the hour of the run.
            local = timezone.localtime(now)
            end = local.replace(hour=23, minute=59, second=0, microsecond=0)
            due = min(now + datetime.timedelta(minutes=1), end)
        response = api["sales"].post(
            "/api/tasks/",
            {"customer": customer.pk, "title": name, "due_at": due.isoformat()},
            format="json",
        )
        assert response.status_code == 201, response.content
        tasks[name] = response.json()
    inbox = api["sales"].get("/api/tasks/inbox/").json()
    assert [t["title"] for t in inbox["overdue"]] == ["late"]
    assert inbox["overdue"][0]["is_overdue"] is True
    assert [t["title"] for t in inbox["upcoming"]] == ["later"]
    assert [t["title"] for t in inbox["today"]] in (["today"], [])  # [] only just before midnight
    # The manager of the team sees the overdue task; the other team's does not.
    assert [t["title"] for t in api["manager"].get("/api/tasks/inbox/").json()["team_overdue"]] == [
        "late"
    ]
    assert api["manager_west"].get("/api/tasks/inbox/").json()["team_overdue"] == []
    late = tasks["late"]
    done = api["sales"].post(f"/api/tasks/{late['id']}/status/", {"status": "done"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_at"]
    assert api["sales"].get("/api/tasks/inbox/").json()["overdue"] == []
    reopened = api["sales"].post(
        f"/api/tasks/{late['id']}/status/", {"status": "open"}, format="json"
    )
    assert reopened.json()["status"] == "open" and reopened.json()["done_at"] is None
    stale = api["sales"].patch(
        f"/api/tasks/{late['id']}/", {"title": "new", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    actions = ChangeLogEntry.objects.filter(
        content_type__model="followuptask", object_id=late["id"]
    )
    assert actions.count() == 3  # created, done, reopened


def test_log_a_call_from_the_customer_page(people):
    customer = make_customer(owner=people["sales"], name="页面客户")
    client = Client()
    client.force_login(people["sales"])
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="log-call"' in page
    response = client.post(
        f"/customers/{customer.pk}/interactions/",
        {
            "channel": "phone",
            "direction": "outbound",
            "subject": "回访",
            "outcome": "满意",
            "follow_up_title": "寄样品",
            "follow_up_due": (timezone.localtime() + datetime.timedelta(days=1)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "回访" in page and "寄样品" in page
    inbox = client.get("/tasks/").content.decode()
    assert "寄样品" in inbox
    # A bad time is reported and nothing is saved.
    client.post(f"/customers/{customer.pk}/interactions/", {"channel": "phone", "occurred_at": "x"})
    assert Interaction.objects.count() == 1
