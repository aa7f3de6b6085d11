"""Feedback tickets: workflow, SLA and overdue, reply, history, permissions."""

import datetime

import pytest
from django.utils import timezone

from kehu.core.models import ChangeLogEntry
from kehu.service.models import Ticket, TicketCause

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def open_ticket(client, customer, **extra):
    body = {"customer": customer.pk, "type": "complaint", "subject": "漏发配件", **extra}
    return client.post("/api/tickets/", body, format="json")


def move(client, ticket_id, to, **extra):
    return client.post(f"/api/tickets/{ticket_id}/transition/", {"to": to, **extra}, format="json")


def test_default_causes_exist_and_admins_can_extend_them(admin_api):
    keys = [c["key"] for c in admin_api.get("/api/ticket-causes/").json()]
    assert keys == ["product_quality", "service", "price", "delivery", "other"]
    TicketCause.objects.create(key="packaging", label="包装", position=9)
    assert "packaging" in [c["key"] for c in admin_api.get("/api/ticket-causes/").json()]


def test_ticket_moves_through_its_workflow_with_sla_and_reply(api, people):
    customer = make_customer(owner=people["sales"])
    created = open_ticket(api["support"], customer, severity="high", cause="delivery")
    assert created.status_code == 201, created.content
    ticket = created.json()
    opened = datetime.datetime.fromisoformat(ticket["opened_at"])
    due = datetime.datetime.fromisoformat(ticket["due_at"])
    assert due - opened == datetime.timedelta(hours=24)  # the high-severity SLA
    assert ticket["state"] == "new" and ticket["cause"] == "delivery"

    # Not allowed: new → closed.
    refused = move(api["support"], ticket["id"], "closed")
    assert refused.status_code == 400 and "to" in refused.json()
    assert move(api["support"], ticket["id"], "assigned").status_code == 400  # nobody named
    assigned = move(api["support"], ticket["id"], "assigned", assignee=people["sales"].pk)
    assert assigned.status_code == 200 and assigned.json()["assignee"] == people["sales"].pk
    assert move(api["sales"], ticket["id"], "in_progress").json()["state"] == "in_progress"
    no_reply = move(api["sales"], ticket["id"], "resolved")
    assert no_reply.status_code == 400 and "reply" in no_reply.json()
    resolved = move(api["sales"], ticket["id"], "resolved", reply="已补发配件，并致歉。")
    assert resolved.json()["state"] == "resolved" and resolved.json()["resolved_at"]
    closed = move(api["support"], ticket["id"], "closed")
    assert closed.json()["state"] == "closed" and closed.json()["closed_at"]
    reopened = move(api["support"], ticket["id"], "in_progress")
    assert reopened.json()["state"] == "in_progress" and reopened.json()["closed_at"] is None

    states = [
        e.changes.get("state")
        for e in ChangeLogEntry.objects.filter(
            content_type__model="ticket", object_id=ticket["id"]
        ).order_by("timestamp", "id")
        if "state" in e.changes
    ]
    assert [s[1] for s in states] == [
        "new",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
        "in_progress",
    ]


def test_overdue_flag_and_filter(api, people):
    customer = make_customer(owner=people["sales"])
    late = open_ticket(api["support"], customer, severity="critical").json()
    fresh = open_ticket(api["support"], customer, severity="low").json()
    Ticket.objects.filter(pk=late["id"]).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    overdue = api["support"].get("/api/tickets/", {"overdue": "true"}).json()["results"]
    assert [t["id"] for t in overdue] == [late["id"]] and overdue[0]["is_overdue"] is True
    assert api["support"].get(f"/api/tickets/{fresh['id']}/").json()["is_overdue"] is False
    move(api["support"], late["id"], "resolved", reply="已处理")
    assert api["support"].get("/api/tickets/", {"overdue": "true"}).json()["results"] == []


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"type": "rant"}, "type"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"cause": "weather"}, "cause"),
        ({"subject": ""}, "subject"),
        ({"state": "closed"}, "state"),
        ({"assignee": 999999}, "assignee"),
    ],
)
def test_bad_tickets_are_refused(api, people, extra, field):
    customer = make_customer(owner=people["sales"])
    response = open_ticket(api["support"], customer, **extra)
    assert response.status_code == 400 and field in response.json()
    assert Ticket.objects.count() == 0


def test_ticket_permissions(api, people):
    customer = make_customer(owner=people["sales"])
    assert open_ticket(api["sales_west"], customer).status_code == 404
    assert open_ticket(api["analyst"], customer).status_code == 403
    ticket = open_ticket(api["sales"], customer).json()
    assert api["sales_west"].get(f"/api/tickets/{ticket['id']}/").status_code == 404
    assert move(api["readonly"], ticket["id"], "in_progress").status_code in (403, 404)
    assert move(api["support"], ticket["id"], "in_progress").status_code == 200
    timeline = (
        api["sales"].get(f"/api/customers/{customer.pk}/timeline/", {"kind": "ticket"}).json()
    )
    assert [e["id"] for e in timeline["results"]] == [ticket["id"]]


def test_ticket_pages_open_and_move_a_ticket(people):
    from django.test import Client

    customer = make_customer(owner=people["sales"], name="工单客户")
    client = Client()
    client.force_login(people["support"])
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="new-ticket"' in page
    response = client.post(
        f"/customers/{customer.pk}/tickets/",
        {"type": "complaint", "severity": "high", "cause": "service", "subject": "态度差"},
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.pk}/"
    detail = client.get(f"/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-move="assigned"' in detail and 'data-move="closed"' not in detail
    client.post(f"/tickets/{ticket.pk}/transition/", {"to": "in_progress"})
    client.post(f"/tickets/{ticket.pk}/transition/", {"to": "resolved", "reply": ""})
    ticket.refresh_from_db()
    assert ticket.state == "in_progress"  # no reply: refused
    client.post(f"/tickets/{ticket.pk}/transition/", {"to": "resolved", "reply": "已道歉并回访"})
    ticket.refresh_from_db()
    assert ticket.state == "resolved" and ticket.reply == "已道歉并回访"
    client.force_login(people["sales_west"])
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404


def test_the_ticket_queue_lists_open_tickets_by_due_time(client, api, people):
    mine = make_customer(owner=people["sales"], name="队列客户")
    theirs = make_customer(owner=people["sales_west"], name="西区客户")
    late = open_ticket(api["support"], mine, severity="critical", subject="紧急").json()
    calm = open_ticket(api["support"], mine, severity="low", subject="不急").json()
    done = open_ticket(api["support"], mine, subject="已解决").json()
    move(api["support"], done["id"], "resolved", reply="好了")
    hidden = open_ticket(api["support"], theirs, subject="别人的").json()
    Ticket.objects.filter(pk=late["id"]).update(due_at=timezone.now() - datetime.timedelta(hours=1))

    client.force_login(people["sales"])
    page = client.get("/tickets/").content.decode()
    rows = [f'data-ticket="{t["id"]}"' for t in (late, calm, done, hidden)]
    assert rows[0] in page and rows[1] in page
    assert page.index(rows[0]) < page.index(rows[1])  # the overdue one first
    assert rows[2] not in page and rows[3] not in page  # resolved; not the rep's customer
    overdue = client.get("/tickets/", {"overdue": "true"}).content.decode()
    assert rows[0] in overdue and rows[1] not in overdue
    everything = client.get("/tickets/", {"all": "1"}).content.decode()
    assert rows[2] in everything and rows[3] not in everything
    client.force_login(people["support"])
    assert rows[3] in client.get("/tickets/").content.decode()
