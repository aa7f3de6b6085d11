"""Care reminders: birthday and holiday follow-ups to the customer's owner, some
days ahead, once per customer, occasion and year, however often the job runs."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.core.models import ChangeLogEntry
from kehu.engagement import care_services
from kehu.engagement.models import CareReminder, FollowUpTask, Holiday

from ..conftest import make_customer

pytestmark = pytest.mark.django_db


def tasks_by_customer() -> dict[int, list[FollowUpTask]]:
    found: dict[int, list[FollowUpTask]] = {}
    for task in FollowUpTask.objects.order_by("id"):
        found.setdefault(task.customer_id, []).append(task)
    return found


def expected_birthdays(customers, start: datetime.date, ahead: int) -> set[int]:
    """Plain computation: whose birthday (29 Feb on the 28th in other years)
    falls within ``ahead`` days of ``start``, among those with an active owner."""
    days = {start + datetime.timedelta(days=n) for n in range(ahead + 1)}
    wanted = set()
    for customer in customers:
        if not customer.birthday or customer.owner is None or not customer.owner.is_active:
            continue
        for day in days:
            month_day = (customer.birthday.month, customer.birthday.day)
            leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
            if month_day == (day.month, day.day) or (
                month_day == (2, 29) and (day.month, day.day) == (2, 28) and not leap
            ):
                wanted.add(customer.pk)
    return wanted


def test_birthday_tasks_go_to_owners_once(people, settings):
    settings.KEHU_CARE_BIRTHDAY_DAYS_AHEAD = 3
    Holiday.objects.update(active=False)
    birthdays = [
        ("1990-02-25", people["sales"]),
        ("1985-02-26", people["sales"]),
        ("1970-02-28", people["sales_west"]),
        ("1992-02-29", people["manager"]),  # 2027 is no leap year: the 28th
        ("1991-03-01", people["sales"]),  # four days ahead: not yet
        ("1980-02-27", None),  # nobody to give it to
        ("1980-02-27", people["sales_peer"]),  # owner left
        ("1999-12-31", people["sales"]),
    ]
    customers = [
        make_customer(owner=owner, name=f"寿星{n}", birthday=day)
        for n, (day, owner) in enumerate(birthdays)
    ]
    people["sales_peer"].is_active = False
    people["sales_peer"].save()
    for customer in customers:
        customer.refresh_from_db()
    start = datetime.date(2027, 2, 25)
    result = care_services.create_care_tasks(as_of=start)
    wanted = expected_birthdays(customers, start, 3)
    assert set(tasks_by_customer()) == wanted and len(wanted) == 4
    assert result.created == 4 and result.without_owner == 2
    for customer in customers:
        for task in tasks_by_customer().get(customer.pk, []):
            assert task.assignee_id == customer.owner_id and task.status == "open"
            local_due = timezone.localtime(task.due_at, timezone.get_default_timezone())
            assert local_due.hour == 9 and customer.name in task.title
    leap_task = tasks_by_customer()[customers[3].pk][0]
    assert timezone.localtime(leap_task.due_at).date() == datetime.date(2027, 2, 28)

    # Running again, the same day or the next, creates nothing twice.
    assert care_services.create_care_tasks(as_of=start).created == 0
    again = care_services.create_care_tasks(as_of=start + datetime.timedelta(days=1))
    assert again.created == 1  # only the 1 March birthday came into range
    assert FollowUpTask.objects.count() == 5
    assert CareReminder.objects.filter(occasion="birthday", year=2027).count() == 5
    # Next year is another occasion; 2028 is a leap year, 29 February its own day.
    next_year = datetime.date(2028, 2, 25)
    wanted = expected_birthdays(customers, next_year, 3)
    assert care_services.create_care_tasks(as_of=next_year).created == len(wanted) == 3
    # Each task is in its customer's history, made by the system.
    logged = ChangeLogEntry.objects.filter(
        content_type__model="followuptask", action="create", channel="system"
    )
    assert logged.count() == FollowUpTask.objects.count()


def test_holiday_tasks_for_active_customers_with_the_tag(people, admin_api):
    Holiday.objects.exclude(name="Spring Festival").update(active=False)
    buyer = make_customer(owner=people["sales"], name="老客户", status="active")
    lead = make_customer(owner=people["sales"], name="线索", status="lead")
    vip = make_customer(owner=people["sales_west"], name="大客户", status="active", tags=["VIP"])
    # Spring Festival 2027 falls on 6 February; its tasks come 7 days ahead.
    assert care_services.create_care_tasks(as_of=datetime.date(2027, 1, 29)).created == 0
    out = StringIO()
    call_command("care_reminders", "--date", "2027-01-30", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["created"] == 2
    assert set(tasks_by_customer()) == {buyer.pk, vip.pk}
    task = tasks_by_customer()[vip.pk][0]
    assert task.assignee == people["sales_west"]
    assert timezone.localtime(task.due_at).date() == datetime.date(2027, 2, 6)
    call_command("care_reminders", "--date", "2027-02-03", stdout=StringIO())
    assert FollowUpTask.objects.count() == 2

    # A holiday of the admin's own, for VIP customers only, on a fixed date.
    from kehu.customers.models import Tag

    response = admin_api.post(
        "/api/holidays/",
        {
            "name": "会员日",
            "month": 3,
            "day": 8,
            "days_ahead": 2,
            "tag": Tag.objects.get(name="VIP").pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    created = care_services.create_care_tasks(as_of=datetime.date(2027, 3, 6)).created
    assert created == 1 and FollowUpTask.objects.filter(customer=vip).count() == 2
    assert not FollowUpTask.objects.filter(customer=lead).exists()


def test_fixed_holiday_across_the_new_year(people):
    Holiday.objects.update(active=False)
    Holiday.objects.filter(name="New Year's Day").update(active=True, days_ahead=3)
    customer = make_customer(owner=people["sales"], status="active")
    assert care_services.create_care_tasks(as_of=datetime.date(2027, 12, 29)).created == 1
    reminder = CareReminder.objects.get()
    assert reminder.year == 2028 and reminder.date == datetime.date(2028, 1, 1)
    assert reminder.customer_id == customer.pk
    assert care_services.create_care_tasks(as_of=datetime.date(2027, 12, 31)).created == 0


def test_holidays_api(api, admin_api):
    names = [h["name"] for h in api["sales"].get("/api/holidays/").json()]
    assert "Spring Festival" in names and "Mid-Autumn Festival" in names
    spring = next(
        h for h in api["sales"].get("/api/holidays/").json() if h["name"] == "Spring Festival"
    )
    assert "2027-02-06" in spring["dates"] and "2028-01-26" in spring["dates"]
    mid_autumn = Holiday.objects.get(name="Mid-Autumn Festival")
    assert {"2027-09-15", "2028-10-03"} <= {d.date.isoformat() for d in mid_autumn.dates.all()}
    body = {"name": "开斋节", "dates": ["2027-03-10", "2028-02-27"], "days_ahead": 5}
    assert api["manager"].post("/api/holidays/", body, format="json").status_code == 403
    created = admin_api.post("/api/holidays/", body, format="json")
    assert created.status_code == 201 and created.json()["dates"] == ["2027-03-10", "2028-02-27"]
    holiday_id = created.json()["id"]
    changed = admin_api.patch(
        f"/api/holidays/{holiday_id}/", {"dates": ["2029-02-15"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["dates"] == ["2029-02-15"]
    for bad, field in [
        ({"name": "x", "month": 2, "day": 30}, "day"),
        ({"name": "x", "month": 13, "day": 1}, "month"),
        ({"name": "x", "month": 2}, "day"),
        ({"name": "x"}, "dates"),
        ({"name": "x", "dates": ["soon"]}, "dates"),
        ({"name": "", "month": 1, "day": 1}, "name"),
        ({"name": "x", "month": 1, "day": 1, "days_ahead": -1}, "days_ahead"),
    ]:
        response = admin_api.post("/api/holidays/", bad, format="json")
        assert response.status_code == 400 and field in response.json(), (bad, response.content)
    assert admin_api.delete(f"/api/holidays/{holiday_id}/").status_code == 204
