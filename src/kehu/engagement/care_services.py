"""Care reminders (客户关怀): follow-up tasks for customers' birthdays and for
holidays, to the customer's owner, some days ahead; and the admins' holidays.

``create_care_tasks`` runs daily (``kehu care_reminders``). It is idempotent:
a customer gets at most one task per occasion (birthday, each holiday) and year,
whatever the number of runs, because each task is recorded in CareReminder
under a unique (customer, occasion, year).
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.bulk import insert_returning, insert_rows
from kehu.core.changelog import Actor, diff, log_change, log_created_in_bulk, snapshot
from kehu.core.models import ChangeAction
from kehu.core.normalize import clean_text
from kehu.customers.models import Customer, Status, Tag

from .models import CareReminder, FollowUpTask, Holiday, HolidayDate, Priority, TaskStatus

CHUNK = 5_000
DUE_HOUR = 9  # local time of the occasion's day the task is due


@dataclass(frozen=True)
class Occasion:
    key: str  # "birthday" or "holiday:<id>"
    date: datetime.date
    customers: Q  # who it is for, on top of "live, with an active owner"
    title: str  # "%(name)s" stands for the customer's name


@dataclass
class CareResult:
    created: int = 0
    without_owner: int = 0
    occasions: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "without_owner": self.without_owner,
            "occasions": self.occasions,
        }


def _birthday_q(day: datetime.date) -> Q:
    q = Q(birthday__month=day.month, birthday__day=day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        q |= Q(birthday__month=2, birthday__day=29)  # celebrated on the 28th
    return q


def occasions_between(start: datetime.date, days_ahead: int | None = None) -> list[Occasion]:
    """The occasions whose tasks are due from ``start`` (today) on: birthdays
    within KEHU_CARE_BIRTHDAY_DAYS_AHEAD days, each active holiday within its
    ``days_ahead``; ``days_ahead`` overrides both."""
    found = []
    ahead = settings.KEHU_CARE_BIRTHDAY_DAYS_AHEAD if days_ahead is None else days_ahead
    for offset in range(ahead + 1):
        day = start + datetime.timedelta(days=offset)
        found.append(
            Occasion(
                "birthday",
                day,
                _birthday_q(day),
                _("Birthday greetings for %(name)s") + f" ({day:%m-%d})",
            )
        )
    for holiday in Holiday.objects.filter(active=True).prefetch_related("dates"):
        ahead = holiday.days_ahead if days_ahead is None else days_ahead
        end = start + datetime.timedelta(days=ahead)
        audience = Q(status=Status.ACTIVE)
        if holiday.tag_id:
            audience &= Q(tags=holiday.tag_id)
        for day in _holiday_days(holiday, start, end):
            title = _("%(holiday)s greetings for %(name)s").replace(
                "%(holiday)s", holiday.display_name
            )
            found.append(Occasion(f"holiday:{holiday.pk}", day, audience, f"{title} ({day})"))
    return found


def _holiday_days(holiday: Holiday, start: datetime.date, end: datetime.date):
    if holiday.is_fixed:
        for year in range(start.year, end.year + 1):
            try:
                day = datetime.date(year, holiday.month, holiday.day)
            except ValueError:  # 29 February in another year
                continue
            if start <= day <= end:
                yield day
    else:
        for item in holiday.dates.all():
            if start <= item.date <= end:
                yield item.date


def create_care_tasks(*, as_of: datetime.date | None = None, days_ahead: int | None = None):
    """Create the care tasks due from ``as_of`` (default today, in Kehu's time
    zone): one per customer, occasion and year, to the customer's owner, due at
    9:00 on the day. Customers without an active owner are counted, not given a
    task. Titles are in the default language (LANGUAGE_CODE). Set-based: tasks,
    reminders and change-log entries are inserted in chunks of 5,000."""
    today = as_of or timezone.localdate()
    result = CareResult()
    with translation.override(settings.LANGUAGE_CODE):
        for occasion in occasions_between(today, days_ahead):
            created, without_owner = _create_for(occasion)
            result.created += created
            result.without_owner += without_owner
            if created or without_owner:
                result.occasions.append(
                    {
                        "occasion": occasion.key,
                        "date": occasion.date.isoformat(),
                        "created": created,
                        "without_owner": without_owner,
                    }
                )
    return result


def _candidates(occasion: Occasion):
    done = CareReminder.objects.filter(
        customer=OuterRef("pk"), occasion=occasion.key, year=occasion.date.year
    )
    return (
        Customer.objects.filter(occasion.customers).filter(~Exists(done)).order_by("pk").distinct()
    )


def _create_for(occasion: Occasion) -> tuple[int, int]:
    candidates = _candidates(occasion)
    without_owner = candidates.filter(Q(owner__isnull=True) | Q(owner__is_active=False)).count()
    owned = candidates.filter(owner__is_active=True)
    created = 0
    after = 0
    while True:
        rows = list(owned.filter(pk__gt=after).values_list("pk", "name", "owner_id")[:CHUNK])
        if not rows:
            return created, without_owner
        for attempt in range(2):
            try:
                with transaction.atomic():
                    still_open = _still_open(occasion, rows)
                    fresh = [r for r in rows if r[0] in still_open]
                    _store(occasion, fresh)
                break
            except IntegrityError:
                if attempt:  # another run created some of them meanwhile
                    raise
        created += len(fresh)
        after = rows[-1][0]


def _still_open(occasion: Occasion, rows) -> set[int]:
    ids = [r[0] for r in rows]
    done = set(
        CareReminder.objects.filter(
            customer_id__in=ids, occasion=occasion.key, year=occasion.date.year
        ).values_list("customer_id", flat=True)
    )
    return set(ids) - done


def _store(occasion: Occasion, rows: list[tuple[int, str, int]]) -> None:
    if not rows:
        return
    now = timezone.now()
    due = timezone.make_aware(
        datetime.datetime.combine(occasion.date, datetime.time(DUE_HOUR)),
        timezone.get_default_timezone(),
    )
    titles = {pk: occasion.title.replace("%(name)s", name)[:200] for pk, name, _ in rows}
    tasks = dict(
        insert_returning(
            FollowUpTask,
            [
                "customer_id",
                "title",
                "notes",
                "due_at",
                "assignee_id",
                "priority",
                "status",
                "created_at",
                "updated_at",
                "version",
            ],
            [
                (pk, titles[pk], "", due, owner, Priority.NORMAL, TaskStatus.OPEN, now, now, 1)
                for pk, _, owner in rows
            ],
            returning=["customer_id", "id"],
        )
    )
    insert_rows(
        CareReminder,
        ["customer_id", "occasion", "year", "date", "task_id", "created_at"],
        [
            (pk, occasion.key, occasion.date.year, occasion.date, tasks[pk], now)
            for pk, _, _ in rows
        ],
    )
    log_created_in_bulk(
        FollowUpTask,
        Customer,
        Actor.system(),
        (
            (
                tasks[pk],
                titles[pk],
                pk,
                {"title": titles[pk], "due_at": due.isoformat(), "assignee": owner},
            )
            for pk, _, owner in rows
        ),
        now,
    )


# ---- holidays (admins) ------------------------------------------------------------

HOLIDAY_FIELDS = ["name", "month", "day", "days_ahead", "tag", "active", "position"]


def _small(data, name, errors, cleaned, low, high) -> None:
    value = data.get(name)
    if value in (None, "") and name in ("month", "day"):
        cleaned[name] = None
    elif isinstance(value, bool) or not str(value).strip().isdigit():
        errors[name] = [_("Enter a whole number.")]
    elif not low <= int(value) <= high:
        errors[name] = [_("Use a number from %(low)d to %(high)d.") % {"low": low, "high": high}]
    else:
        cleaned[name] = int(value)


def _clean_holiday(data: dict, holiday: Holiday | None) -> tuple[dict, list | None]:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if "name" in data or holiday is None:
        name = clean_text(str(data.get("name") or ""))
        if not name:
            errors["name"] = [_("This field is required.")]
        elif len(name) > 100:
            errors["name"] = [_("At most %(n)d characters.") % {"n": 100}]
        cleaned["name"] = name
    for name, low, high in (("month", 1, 12), ("day", 1, 31), ("days_ahead", 0, 60)):
        if name in data:
            _small(data, name, errors, cleaned, low, high)
    for name in ("active",):
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = [_("Use true or false.")]
            else:
                cleaned[name] = data[name]
    if "position" in data:
        _small(data, "position", errors, cleaned, 0, 10_000)
    if "tag" in data:
        tag = data["tag"]
        cleaned["tag"] = None
        if tag not in (None, ""):
            cleaned["tag"] = Tag.objects.filter(pk=tag if str(tag).isdigit() else None).first()
            if cleaned["tag"] is None:
                errors["tag"] = [_("There is no tag with this id.")]
    dates = None
    if "dates" in data:
        dates = []
        raw = data["dates"]
        if not isinstance(raw, list):
            errors["dates"] = [_("Send a list of dates such as 2027-02-06.")]
        else:
            for value in raw:
                try:
                    dates.append(datetime.date.fromisoformat(str(value)))
                except ValueError:
                    errors["dates"] = [_("Send a list of dates such as 2027-02-06.")]
                    break
    month = cleaned.get("month", getattr(holiday, "month", None))
    day = cleaned.get("day", getattr(holiday, "day", None))
    if (month is None) != (day is None):
        errors.setdefault("day", [_("Give both the month and the day, or neither.")])
    elif month is not None and "day" not in errors and "month" not in errors:
        try:
            datetime.date(2000, month, day)  # a leap year: 29 February is a date
        except ValueError:
            errors["day"] = [_("This month has no such day.")]
    has_dates = bool(dates) if dates is not None else bool(holiday and holiday.dates.exists())
    if month is None and not has_dates and not errors:
        errors["dates"] = [_("Give a month and day, or the holiday's dates.")]
    if errors:
        raise ValidationError(errors)
    return cleaned, dates


def holiday_save(*, actor: Actor, data: dict, holiday: Holiday | None = None) -> Holiday:
    """Create a holiday or change the fields sent; ``dates`` (ISO dates)
    replaces the list of dates of a moving holiday. Admins only."""
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change holidays."))
    cleaned, dates = _clean_holiday(data, holiday)
    with transaction.atomic():
        if holiday is None:
            holiday = Holiday.objects.create(**cleaned)
            before = {}
        else:
            holiday = Holiday.objects.select_for_update().get(pk=holiday.pk)
            before = snapshot(holiday, HOLIDAY_FIELDS)
            before["dates"] = [d.isoformat() for d in holiday.dates.values_list("date", flat=True)]
            for name, value in cleaned.items():
                setattr(holiday, name, value)
            holiday.save()
        if dates is not None:
            holiday.dates.all().delete()
            HolidayDate.objects.bulk_create(
                [HolidayDate(holiday=holiday, date=d) for d in sorted(set(dates))]
            )
        after = snapshot(holiday, HOLIDAY_FIELDS)
        after["dates"] = [d.isoformat() for d in holiday.dates.values_list("date", flat=True)]
        changes = diff(before, after)
        if changes:
            action = ChangeAction.UPDATE if before else ChangeAction.CREATE
            log_change(holiday, action, actor, changes)
    return holiday


def holiday_delete(*, actor: Actor, holiday: Holiday) -> None:
    """Delete a holiday; tasks already created stay."""
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only admins change holidays."))
    with transaction.atomic():
        log_change(holiday, ChangeAction.DELETE, actor)
        holiday.delete()
