from decimal import Decimal

from django.db import migrations
from django.utils.translation import gettext_noop

# Names are data: the shipped ones are English message ids that the interface
# translates (普通会员, 银卡, 金卡, 钻石卡); an admin's own stay as typed.
DEFAULT_TIERS = [
    (gettext_noop("Standard"), 0, ""),
    (gettext_noop("Silver"), 1_000, gettext_noop("Birthday gift")),
    (gettext_noop("Gold"), 5_000, gettext_noop("Birthday gift, free shipping")),
    (gettext_noop("Diamond"), 20_000, gettext_noop("Birthday gift, free shipping, priority service")),
]


def add_defaults(apps, schema_editor):
    tier = apps.get_model("loyalty", "Tier")
    if not tier.objects.exists():
        for position, (name, threshold, benefits) in enumerate(DEFAULT_TIERS):
            tier.objects.create(
                name=name,
                basis="points",
                threshold=Decimal(threshold),
                benefits=benefits,
                position=position,
            )
    rule = apps.get_model("loyalty", "EarnRule")
    if not rule.objects.exists():
        rule.objects.create(
            name=gettext_noop("1 point per 10 spent"),
            unit_amount=Decimal("10.00"),
            points_per_unit=1,
            minimum_amount=Decimal(0),
            active=True,
        )


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
