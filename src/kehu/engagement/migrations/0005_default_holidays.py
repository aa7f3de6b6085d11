import datetime

from django.db import migrations
from django.utils.translation import gettext_noop

# Lunar holidays fall on another day each year: their dates (Gregorian),
# checked against a lunar calendar converter, for the coming years. Admins add
# later years. Names are English message ids that the interface translates.
SPRING_FESTIVAL = [  # 春节, 1st day of the 1st lunar month
    "2026-02-17",
    "2027-02-06",
    "2028-01-26",
    "2029-02-13",
    "2030-02-03",
    "2031-01-23",
    "2032-02-11",
]
DRAGON_BOAT = [  # 端午节, 5th day of the 5th lunar month
    "2026-06-19",
    "2027-06-09",
    "2028-05-28",
    "2029-06-16",
    "2030-06-05",
    "2031-06-24",
    "2032-06-12",
]
MID_AUTUMN = [  # 中秋节, 15th day of the 8th lunar month
    "2026-09-25",
    "2027-09-15",
    "2028-10-03",
    "2029-09-22",
    "2030-09-12",
    "2031-10-01",
    "2032-09-19",
]
# (name, month, day, lunar dates, days ahead, active)
DEFAULT_HOLIDAYS = [
    (gettext_noop("New Year's Day"), 1, 1, [], 3, False),
    (gettext_noop("Spring Festival"), None, None, SPRING_FESTIVAL, 7, True),
    (gettext_noop("Dragon Boat Festival"), None, None, DRAGON_BOAT, 3, False),
    (gettext_noop("Mid-Autumn Festival"), None, None, MID_AUTUMN, 7, True),
    (gettext_noop("National Day"), 10, 1, [], 3, False),
]


def add_holidays(apps, schema_editor):
    holiday_model = apps.get_model("engagement", "Holiday")
    date_model = apps.get_model("engagement", "HolidayDate")
    if holiday_model.objects.exists():
        return
    for position, (name, month, day, dates, ahead, active) in enumerate(DEFAULT_HOLIDAYS):
        holiday = holiday_model.objects.create(
            name=name, month=month, day=day, days_ahead=ahead, active=active, position=position
        )
        date_model.objects.bulk_create(
            [date_model(holiday=holiday, date=datetime.date.fromisoformat(d)) for d in dates]
        )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0004_care_reminders")]

    operations = [migrations.RunPython(add_holidays, migrations.RunPython.noop)]
