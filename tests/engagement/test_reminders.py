"""Follow-up reminders go out once, at their time, by email and in the app; the
worker runs the scheduled jobs when they are due."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from kehu.core import schedule
from kehu.core.models import JobRun
from kehu.engagement import services
from kehu.engagement.models import FollowUpTask

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def new_task(client, customer, title, due_in, remind_in=None):
    now = timezone.now()
    body = {
        "customer": customer.pk,
        "title": title,
        "due_at": (now + due_in).isoformat(),
    }
    if remind_in is not None:
        body["remind_at"] = (now + remind_in).isoformat()
    response = client.post("/api/tasks/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def reminding(settings):
    settings.KEHU_REMINDER_EMAILS = True


def test_due_reminders_go_out_once_by_email_and_again_when_moved(api, people, reminding):
    people["sales"].email = "sales@example.com"
    people["sales"].save()
    customer = make_customer(owner=people["sales"], name="沈佳宜")
    hour = datetime.timedelta(hours=1)
    first = new_task(api["sales"], customer, "回电确认", 2 * hour, -hour)
    new_task(api["sales"], customer, "寄样品", 3 * hour, -2 * hour)
    later = new_task(api["sales"], customer, "下周拜访", 48 * hour, 24 * hour)
    done = new_task(api["sales"], customer, "已完成的", 2 * hour, -hour)
    api["sales"].post(f"/api/tasks/{done['id']}/status/", {"status": "done"}, format="json")
    new_task(api["sales"], customer, "不提醒", 2 * hour)

    sent = services.reminders_send()
    assert sent == {"reminded": 2, "emails": 1}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sales@example.com"]
    assert "回电确认" in mail.outbox[0].body and "寄样品" in mail.outbox[0].body
    assert "下周拜访" not in mail.outbox[0].body
    # Once only.
    assert services.reminders_send() == {"reminded": 0, "emails": 0}
    # The later one, when its time comes.
    tomorrow = timezone.now() + datetime.timedelta(hours=25)
    assert services.reminders_send(now=tomorrow)["reminded"] == 1
    # Moving a sent reminder sends it again at its new time.
    current = api["sales"].get(f"/api/tasks/{first['id']}/").json()
    moved = api["sales"].put(
        f"/api/tasks/{first['id']}/",
        {
            "remind_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
            "version": current["version"],
        },
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert FollowUpTask.objects.get(pk=first["id"]).reminded_at is None
    assert services.reminders_send()["reminded"] == 1
    assert later["id"] != first["id"]


def test_without_email_reminders_still_show_in_the_app(api, people, client, settings):
    settings.KEHU_REMINDER_EMAILS = False
    customer = make_customer(owner=people["sales"])
    hour = datetime.timedelta(hours=1)
    new_task(api["sales"], customer, "报价跟进", 3 * hour, -hour)
    new_task(api["sales"], customer, "过期任务", -hour)
    new_task(api["sales"], customer, "远期任务", 72 * hour, 48 * hour)
    assert services.reminders_send() == {"reminded": 1, "emails": 0}
    assert not mail.outbox
    client.force_login(people["sales"])
    page = client.get("/tasks/").content.decode()
    reminders = page[page.index('data-testid="reminders"') : page.index('data-testid="overdue"')]
    assert "报价跟进" in reminders and "远期任务" not in reminders and "过期任务" not in reminders
    # Overdue and reminded tasks are counted in the menu.
    assert 'data-testid="follow-up-count">2<' in page


def test_the_worker_runs_due_jobs_and_records_them(api, people, reminding):
    customer = make_customer(owner=people["sales"])
    new_task(
        api["sales"],
        customer,
        "提醒我",
        datetime.timedelta(hours=2),
        -datetime.timedelta(minutes=1),
    )
    call_command("worker", "--once")
    runs = {run.name: run for run in JobRun.objects.all()}
    expected = {
        "reminders",
        "care-reminders",
        "points-expiry",
        "segments",
        "recommendations",
        "segments-new-orders",
    }
    assert set(runs) == expected
    assert runs["reminders"].ok and runs["reminders"].result == {"reminded": 1, "emails": 0}
    assert all(run.ok and run.finished_at for run in runs.values())
    # Nothing is due again right away.
    assert schedule.due_jobs() == []
    started = runs["reminders"].started_at
    assert [j.name for j in schedule.due_jobs(started + datetime.timedelta(seconds=61))] == [
        "reminders"
    ]


def test_daily_jobs_run_once_a_day_from_their_hour(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    job = schedule.Job("x", task=None, daily_at=datetime.time(6, 0))
    zone = timezone.get_default_timezone()

    def at(day, hour):
        return datetime.datetime(2026, 11, day, hour, 30, tzinfo=zone)

    assert schedule.is_due(job, None, at(24, 3))
    assert not schedule.is_due(job, at(24, 6), at(24, 23))  # ran today after 6:00
    assert not schedule.is_due(job, at(23, 7), at(24, 5))  # today's hour has not come
    assert schedule.is_due(job, at(23, 7), at(24, 6))
    assert schedule.is_due(job, at(24, 5), at(24, 7))  # ran before today's hour
